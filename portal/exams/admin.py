"""Exams and their question banks in the admin; quizzes are read-only records."""

from django.contrib import admin

from portal.exams.models import Exam, Launch, Question, Quiz, QuizQuestion, Student


class QuestionInline(admin.StackedInline):
    model = Question
    extra = 0
    fields = (
        ("position", "weight", "can_shuffle", "correct"),
        "description",
        ("c1", "c2"),
        ("c3", "c4"),
    )


@admin.register(Exam)
class ExamAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "title",
        "customer",
        "language",
        "number_of_question",
        "duration",
        "is_active",
    )
    list_filter = ("customer", "language", "is_active")
    search_fields = ("title",)
    inlines = [QuestionInline]


@admin.register(Student)
class StudentAdmin(admin.ModelAdmin):
    list_display = ("uuid", "customer", "mobile", "created_at")
    list_filter = ("customer",)
    search_fields = ("uuid", "mobile")


class QuizQuestionInline(admin.TabularInline):
    model = QuizQuestion
    extra = 0
    can_delete = False
    fields = ("position", "question", "choice_order", "answer", "done", "answered_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class LaunchInline(admin.TabularInline):
    model = Launch
    extra = 0
    can_delete = False
    fields = ("launch_id", "callback_url", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Quiz)
class QuizAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "exam",
        "student",
        "state",
        "percentage",
        "is_accept",
        "start_at",
        "end_at",
    )
    list_filter = ("state", "is_accept", "exam")
    search_fields = ("student__uuid",)
    list_select_related = ("exam", "student")
    inlines = [LaunchInline, QuizQuestionInline]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in Quiz._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
