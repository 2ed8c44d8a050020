"""Exams and their question banks in the admin, checked by the exam format's declaration and
saved through the authoring services (drawn questions are versioned, never edited); quizzes
are read-only records."""

from collections.abc import Iterable
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import transaction
from pydantic import ValidationError as DeclarationError

from portal.admin import RecordInline
from portal.audit import log
from portal.exams import authoring, schema
from portal.exams.models import Exam, Launch, Question, Quiz, QuizQuestion, Student
from portal.exams.schema import QUESTION_FIELDS, SETTINGS_FIELDS, ExamIn, ExamSettingsIn, QuestionIn


class QuestionForm(forms.ModelForm):
    """A row of the bank; its content is checked by QuestionIn (`self.declared` once valid)."""

    declared: QuestionIn | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        schema.loosen(self, QuestionIn)

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        defaults = {name: getattr(self.instance, name) for name in QUESTION_FIELDS}
        self.declared = schema.check_form(self, QuestionIn, defaults)
        return cleaned


def _rows(bank: Iterable[forms.BaseForm]) -> list[QuestionForm]:
    """The bank's rows as what they are: QuestionInline's forms are QuestionForms."""
    return [row for row in bank if isinstance(row, QuestionForm)]


class QuestionFormSet(forms.BaseInlineFormSet):
    """The bank as a whole: ExamIn built from the exam's settings and the rows kept."""

    def clean(self) -> None:
        super().clean()
        exam = self.instance
        parent = getattr(exam, "_admin_form", None)
        if parent is not None and parent.errors:
            return  # the exam's own form shows what is wrong with it
        try:
            settings = ExamSettingsIn.model_validate(
                {name: getattr(exam, name) for name in SETTINGS_FIELDS}
            )
        except DeclarationError:
            return  # the exam's own form shows what is wrong with it
        kept = [
            form
            for form in _rows(self.forms)
            if not self._should_delete_form(form)  # type: ignore[attr-defined]  # see _save_bank
            and (form.instance.pk or form.has_changed())
        ]
        declared = [form.declared for form in kept if form.declared is not None]
        if len(declared) < len(kept):
            return  # each invalid row shows its own errors
        try:
            ExamIn.model_validate(
                {
                    **settings.model_dump(),
                    "questions": [question.model_dump() for question in declared],
                }
            )
        except DeclarationError as error:
            found = schema.problems(error)
            # Shown on the exam's field too (the exam form is validated before the bank).
            for problem in found:
                if parent is not None and problem.field in parent.fields:
                    parent.add_error(problem.field, problem.message)
            raise ValidationError([problem.message for problem in found]) from None


class QuestionInline(admin.StackedInline):
    model = Question
    form = QuestionForm
    formset = QuestionFormSet
    extra = 0
    fields = (
        ("position", "weight", "can_shuffle", "correct"),
        "description",
        ("c1", "c2"),
        ("c3", "c4"),
    )

    def get_queryset(self, request):
        # Retired versions stay with the quizzes that drew them; the bank is the live ones.
        return super().get_queryset(request).live()


class ExamForm(forms.ModelForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        schema.loosen(self, ExamSettingsIn)
        # The admin gives the question formset this form's instance, not the form: let the
        # bank's check put its message on this form's field.
        self.instance._admin_form = self

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        schema.check_form(self, ExamSettingsIn)
        return cleaned


@admin.register(Exam)
class ExamAdmin(admin.ModelAdmin):
    form = ExamForm
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

    def save_model(self, request, obj: Exam, form, change: bool) -> None:
        # The whole change view runs in one transaction; the lock makes a console author's
        # save wait for this one (and the other way round).
        with transaction.atomic():
            before = None
            if change:
                stored = Exam.objects.select_for_update().get(pk=obj.pk)
                before = log.snapshot(stored, SETTINGS_FIELDS)
            obj.save()
            after = log.snapshot(obj, SETTINGS_FIELDS)
            if before != after:
                log.record(
                    actor=request.user,
                    action="exam.update" if change else "exam.create",
                    target=obj,
                    before=before,
                    after=after,
                    note="admin",
                )

    def save_formset(self, request, form, formset, change: bool) -> None:
        if not isinstance(formset, QuestionFormSet):
            return super().save_formset(request, form, formset, change)
        _save_bank(request, form.instance, formset)
        return None


@admin.register(Student)
class StudentAdmin(admin.ModelAdmin):
    list_display = ("uuid", "customer", "mobile", "extra_minutes", "time_factor", "created_at")
    list_filter = ("customer",)
    search_fields = ("uuid", "mobile")


class QuizQuestionInline(RecordInline):
    model = QuizQuestion
    fields = ("position", "question", "choice_order", "answer", "done", "answered_at")


class LaunchInline(RecordInline):
    model = Launch
    fields = ("launch_id", "callback_url", "created_at")


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


def _save_bank(request, exam: Exam, formset: QuestionFormSet) -> None:
    """Save the inline's rows through the authoring services: additions first and removals
    last, so the bank never drops below number_of_question on the way (the formset checked
    the end state)."""
    formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
    removed, changed = [], []
    # _should_delete_form is BaseFormSet's own, which django-stubs leaves out.
    for row in _rows(formset.initial_forms):
        if formset._should_delete_form(row):  # type: ignore[attr-defined]
            removed.append(row)
        elif row.has_changed():
            changed.append(row)
    for row in _rows(formset.extra_forms):
        if row.has_changed() and not formset._should_delete_form(row):  # type: ignore[attr-defined]
            assert row.declared is not None  # the formset is valid: each row kept is declared
            question = authoring.question_add(exam=exam, data=row.declared, actor=request.user)
            _place(question, row)
            formset.new_objects.append(question)
    for row in changed:
        content = [name for name in row.changed_data if name in QUESTION_FIELDS]
        question = row.instance
        if content:
            assert row.declared is not None  # the formset is valid: each row kept is declared
            question = authoring.question_update(
                question=question, data=row.declared, actor=request.user
            )
        _place(question, row)
        formset.changed_objects.append((question, row.changed_data))
    for row in removed:
        authoring.question_remove(question=row.instance, actor=request.user)
        formset.deleted_objects.append(row.instance)


def _place(question: Question, row: forms.ModelForm) -> None:
    # Position is the bank's order, not content: it changes in place, whoever drew it.
    position = row.cleaned_data.get("position")
    if position and position != question.position:
        Question.objects.filter(pk=question.pk).update(position=position)
        question.position = position
