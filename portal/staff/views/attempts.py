"""Exam attempts and students' accommodations in the staff console.

An attempt's page shows a quiz as the candidate saw it (shown order of questions and choices,
the chosen and the right choice, points), every save, the launches and the callback sent.
Operators give extra time, re-open a quiz the deadline closed by a fault, and hand out the
signed callback link; they also set a student's accommodation (more time on every new quiz).
Every change goes through portal.exams.staff_services, which writes the audit row. Without
JavaScript each action is a form that posts and redirects back; with htmx it swaps the part
that changed.
"""

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from portal.customers.models import Customer
from portal.exams import staff_services
from portal.exams.models import Quiz, Student
from portal.exams.services import ExamError
from portal.http import StaffRequest
from portal.staff import roles
from portal.staff.access import staff_view
from portal.staff.listing import ANY, Column, FilterForm, Listing, model_choice, wants_export
from portal.staff.responses import partial_response, show_once, take_once
from portal.staff.templatetags.staff import when

ATTEMPT = "staff/attempts/attempt.html"
STUDENT = "staff/attempts/student.html"
STUDENTS = "staff/attempts/students.html"


# --- forms: the minutes' bounds are staff_services'; the accommodation's are the model's.


def _minutes_field(label) -> forms.IntegerField:
    low, high = (v.limit_value for v in staff_services.MINUTES_VALIDATORS)
    return forms.IntegerField(
        label=label,
        validators=list(staff_services.MINUTES_VALIDATORS),
        widget=forms.NumberInput({"min": low, "max": high, "step": 1}),
    )


class ExtendForm(forms.Form):
    minutes = _minutes_field(_("Minutes to add"))


class ReopenForm(forms.Form):
    minutes = _minutes_field(_("Minutes from now until the new deadline"))


class AccommodationForm(forms.ModelForm):
    class Meta:
        model = Student
        fields = ["extra_minutes", "time_factor"]
        labels = {"extra_minutes": _("Extra minutes"), "time_factor": _("Time factor")}
        help_texts = {
            "extra_minutes": _("Added to every new quiz of this student, e.g. 15."),
            "time_factor": _(
                "The exam's duration is multiplied by it: 1 is none, 1.25 gives 25 % more time."
            ),
        }


# --- an attempt


def _attempt_context(request: StaffRequest, pk: int, **extra) -> dict:
    review = staff_services.attempt_review(pk)
    quiz = review.quiz
    return {
        "review": review,
        "quiz": quiz,
        "student": quiz.student,
        "exam": quiz.exam,
        "extend_form": ExtendForm(),
        "reopen_form": ReopenForm(),
        "can_extend": not quiz.is_finished,
        "can_reopen": quiz.is_finished and quiz.finished_by == Quiz.FinishedBy.DEADLINE,
        **extra,
    }


@staff_view()
def attempt(request: StaffRequest, pk: int) -> HttpResponse:
    context = _attempt_context(
        request, pk, callback_link=take_once(request, f"quiz:{pk}:callback_link")
    )
    return render(request, ATTEMPT, context)


def _after_action(request: StaffRequest, pk: int, part: str = "summary", **extra) -> HttpResponse:
    """Post/redirect/get without JavaScript; with htmx the updated part and the message."""
    if not request.htmx:
        anchor = "#callback" if part == "callback" else ""
        return HttpResponseRedirect(reverse("staff:attempt", args=[pk]) + anchor)
    context = _attempt_context(request, pk, **extra)
    if part != "summary":
        return partial_response(request, (f"{ATTEMPT}#{part}", context))
    # What changed the quiz is on its timeline too (staff actions are among its events).
    timeline = (f"{ATTEMPT}#timeline", {**context, "oob": True})
    return partial_response(request, (f"{ATTEMPT}#summary", context), timeline)


def _refused(request: StaffRequest, pk: int, form: forms.Form, name: str) -> HttpResponse:
    """A form the action refused: its errors on the page (400), or in place with htmx."""
    context = _attempt_context(request, pk, **{name: form})
    if request.htmx:
        return partial_response(request, (f"{ATTEMPT}#summary", context))
    return render(request, ATTEMPT, context, status=400)


def _quiz_or_404(pk: int) -> Quiz:
    return get_object_or_404(Quiz, pk=pk)


def _change_deadline(
    request: StaffRequest, pk: int, form: forms.Form, name: str, change: Callable, done: str
) -> HttpResponse:
    """Give the quiz the form's minutes through `change` (a staff service); the message is
    `done` (with the minutes and the new deadline), or the service's refusal."""
    quiz = _quiz_or_404(pk)
    if not form.is_valid():
        return _refused(request, pk, form, name)
    minutes = form.cleaned_data["minutes"]
    try:
        change(quiz=quiz, minutes=minutes, actor=request.user)
    except ExamError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, done % {"minutes": minutes, "deadline": when(quiz.deadline_at)})
    return _after_action(request, pk)


@staff_view(roles.OPERATE)
@require_POST
def attempt_extend(request: StaffRequest, pk: int) -> HttpResponse:
    done = gettext("%(minutes)s minutes added: the deadline is now %(deadline)s.")
    form = ExtendForm(request.POST)
    return _change_deadline(request, pk, form, "extend_form", staff_services.quiz_extend, done)


@staff_view(roles.OPERATE)
@require_POST
def attempt_reopen(request: StaffRequest, pk: int) -> HttpResponse:
    done = gettext(
        "The attempt is open again until %(deadline)s. The candidate continues from the "
        "same exam link in the same browser, or through a new launch by the customer."
    )
    form = ReopenForm(request.POST)
    return _change_deadline(request, pk, form, "reopen_form", staff_services.quiz_reopen, done)


@staff_view(roles.OPERATE)
@require_POST
def attempt_callback_link(request: StaffRequest, pk: int) -> HttpResponse:
    """Show the signed callback link of one launch, to copy (recorded in the audit log)."""
    quiz = _quiz_or_404(pk)
    launch_id = request.POST.get("launch", "")
    try:
        url = staff_services.quiz_callback_link(quiz=quiz, launch_id=launch_id, actor=request.user)
    except ExamError as error:
        messages.error(request, str(error.message))
        return _after_action(request, pk, "callback")
    link = {"launch": launch_id, "url": url}
    if request.htmx:
        return _after_action(request, pk, "callback", callback_link=link)
    show_once(request, f"quiz:{pk}:callback_link", link)
    return _after_action(request, pk, "callback")


# --- students and their accommodations


class StudentFilters(FilterForm):
    customer = model_choice(_("Customer"), Customer.objects.order_by("name"))
    accommodation = forms.ChoiceField(
        label=_("Accommodation"),
        required=False,
        choices=[*ANY, ("yes", _("Only with one")), ("no", _("Without"))],
    )
    lookups = {"customer": "customer"}

    def filter(self, queryset, data):
        queryset = super().filter(queryset, data)
        accommodated = Q(extra_minutes__gt=0) | Q(time_factor__gt=1)
        if data.get("accommodation") == "yes":
            queryset = queryset.filter(accommodated)
        elif data.get("accommodation") == "no":
            queryset = queryset.exclude(accommodated)
        return queryset


STUDENT_COLUMNS = (
    Column("uuid", _("Student id"), order_by="uuid"),
    Column("mobile", _("Mobile"), order_by="mobile"),
    Column("customer", _("Customer"), "customer.name", order_by="customer__name"),
    Column("extra_minutes", _("Extra minutes"), order_by="extra_minutes"),
    Column("time_factor", _("Time factor"), order_by="time_factor"),
    Column("attempts", _("Attempts"), "attempt_count", order_by="attempt_count"),
    Column("created", _("First seen"), "created_at", order_by="created_at"),
)
STUDENTS_LISTING = Listing(
    columns=STUDENT_COLUMNS,
    default_sort="-created",
    search_fields=("uuid", "mobile"),
    filter_form=StudentFilters,
)


def student_rows() -> QuerySet[Student]:
    return Student.objects.select_related("customer").annotate(attempt_count=Count("quizzes"))


@staff_view()
def students(request: StaffRequest) -> HttpResponse:
    return STUDENTS_LISTING.respond(
        request, student_rows(), STUDENTS, "students", search_hint=gettext("Student id or mobile")
    )


class AttemptFilters(FilterForm):
    state = forms.ChoiceField(label=_("State"), required=False, choices=[*ANY, *Quiz.State.choices])
    lookups = {"state": "state"}


STUDENT_ATTEMPTS = Listing(
    columns=(
        Column("quiz", _("Attempt"), "pk", order_by="pk"),
        Column("exam", _("Exam"), "exam.title", order_by="exam__title"),
        Column("state", _("State"), order_by="state"),
        Column("start", _("Started"), "start_at", order_by="start_at"),
        Column("deadline", _("Deadline"), "deadline_at", order_by="deadline_at"),
        Column("end", _("Ended"), "end_at", order_by="end_at"),
        Column("extra_minutes", _("Extra minutes"), order_by="extra_minutes"),
        Column("percentage", _("Percentage"), order_by="percentage"),
        Column("passed", _("Passed"), "is_accept", order_by="is_accept"),
    ),
    default_sort="-start",
    search_fields=("exam__title",),
    filter_form=AttemptFilters,
    per_page=25,
)


def _student_context(request: StaffRequest, student: Student, **extra) -> dict:
    return {
        "student": student,
        "listing": STUDENT_ATTEMPTS.page(request, student.quizzes.select_related("exam")),
        "form": AccommodationForm(instance=student),
        **extra,
    }


def _student_or_404(pk: int) -> Student:
    return get_object_or_404(Student.objects.select_related("customer"), pk=pk)


@staff_view()
def student(request: StaffRequest, pk: int) -> HttpResponse:
    found = _student_or_404(pk)
    attempts = found.quizzes.select_related("exam")
    if wants_export(request):
        return STUDENT_ATTEMPTS.export(request, attempts, f"student-{found.pk}-attempts")
    if request.htmx:
        context = {"student": found, "listing": STUDENT_ATTEMPTS.page(request, attempts)}
        return render(request, f"{STUDENT}#results", context)
    return render(request, STUDENT, _student_context(request, found))


@staff_view(roles.OPERATE)
@require_POST
def student_accommodation(request: StaffRequest, pk: int) -> HttpResponse:
    found = _student_or_404(pk)
    form = AccommodationForm(request.POST, instance=Student.objects.get(pk=pk))
    if not form.is_valid():
        context = _student_context(request, found, form=form)
        if request.htmx:
            return partial_response(request, (f"{STUDENT}#accommodation", context))
        return render(request, STUDENT, context, status=400)
    changed = staff_services.student_set_accommodation(
        student=found,
        extra_minutes=form.cleaned_data["extra_minutes"],
        time_factor=form.cleaned_data["time_factor"],
        actor=request.user,
    )
    if changed:
        messages.success(
            request, gettext("Accommodation saved: it applies to this student's new quizzes.")
        )
    else:
        messages.info(request, gettext("Nothing changed."))
    if request.htmx:
        return partial_response(
            request, (f"{STUDENT}#accommodation", _student_context(request, found))
        )
    return HttpResponseRedirect(reverse("staff:student", args=[pk]))


urlpatterns = [
    path("attempts/<int:pk>/", attempt, name="attempt"),
    path("attempts/<int:pk>/extend/", attempt_extend, name="attempt_extend"),
    path("attempts/<int:pk>/reopen/", attempt_reopen, name="attempt_reopen"),
    path("attempts/<int:pk>/callback-link/", attempt_callback_link, name="attempt_callback_link"),
    path("students/", students, name="students"),
    path("students/<int:pk>/", student, name="student"),
    path("students/<int:pk>/accommodation/", student_accommodation, name="student_accommodation"),
]
