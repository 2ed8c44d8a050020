"""An exam's results in the staff console: its attempts (filter, sort, totals, a score
histogram, exports of the attempts and of every answer) and the item analysis of its questions.
"""

from dataclasses import replace

from django import forms
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from portal.customers.models import Customer
from portal.exams import selectors
from portal.exams.models import Exam, Quiz
from portal.http import StaffRequest
from portal.staff.access import staff_view
from portal.staff.listing import (
    ANY,
    Column,
    DateRangeFilters,
    Listing,
    download,
    model_choice,
    wants_export,
    with_query,
)
from portal.staff.responses import render_results
from portal.staff.templatetags.staff import num
from scoring import items as item_scoring

STATES = ANY + [(Quiz.State.STARTED, _("Started")), (Quiz.State.COMPLETED, _("Completed"))]
YES_NO = ANY + [("yes", _("Yes")), ("no", _("No"))]


class ItemFilters(DateRangeFilters):
    """Which attempts count: the date range is the start of the quiz. The customer's choices
    are those with attempts at this exam (set per exam by `for_exam`)."""

    date_field = "start_at"
    field_order: tuple[str, ...] = ("customer", "since", "until")
    exam_id: int | None = None

    customer = model_choice(_("Customer"), Customer.objects.none())
    lookups = {"customer": "student__customer"}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        customer = self.fields["customer"]
        assert isinstance(customer, forms.ModelChoiceField)
        customer.queryset = (
            # None (no exam given) is valid: Django reads `exam_id=None` as IS NULL.
            Customer.objects.filter(students__quizzes__exam_id=self.exam_id)  # type: ignore[misc]
            .distinct()
            .order_by("name")
        )

    @classmethod
    def for_exam(cls, exam: Exam) -> type["ItemFilters"]:
        return type(cls.__name__, (cls,), {"exam_id": exam.pk})


class ResultsFilters(ItemFilters):
    field_order = ("state", "passed", "customer", "since", "until")

    state = forms.ChoiceField(label=_("State"), choices=STATES, required=False)
    passed = forms.ChoiceField(label=_("Passed"), choices=YES_NO, required=False)
    lookups = ItemFilters.lookups | {"state": "state"}

    def filter(self, queryset, data):
        if "passed" in data:
            queryset = queryset.filter(is_accept=data["passed"] == "yes")
        return super().filter(queryset, data)


COLUMNS = (
    Column("student", _("Student"), "student.uuid", order_by="student__uuid"),
    Column("customer", _("Customer"), "student.customer.name", "student__customer__name"),
    Column("state", _("State"), order_by="state"),
    Column("started", _("Started"), "start_at", order_by="start_at"),
    Column("finished", _("Finished"), "end_at", order_by="end_at"),
    Column("finished_by", _("Finished by"), order_by="finished_by"),
    Column("correct", _("Right"), "correct_answers", order_by="correct_answers"),
    Column("wrong", _("Wrong"), "wrong_answers", order_by="wrong_answers"),
    Column("unanswered", _("Unanswered"), order_by="unanswered"),
    Column("percentage", _("Score %"), order_by="percentage"),
    Column("total_score", _("Points"), order_by="total_score"),
    Column("passed", _("Passed"), "is_accept", order_by="is_accept"),
)
# Exports name their columns for spreadsheets and scripts, the same in every language.
EXPORT_COLUMNS = (
    Column("attempt", "attempt", "pk"),
    Column("student_uuid", "student_uuid", "student.uuid"),
    Column("mobile", "mobile", "student.mobile"),
    Column("customer", "customer", "student.customer.name"),
    Column("state", "state"),
    Column("started_at", "started_at", "start_at"),
    Column("finished_at", "finished_at", "end_at"),
    Column("finished_by", "finished_by"),
    Column("correct", "correct", "correct_answers"),
    Column("wrong", "wrong", "wrong_answers"),
    Column("unanswered", "unanswered"),
    Column("percentage", "percentage"),
    Column("total_score", "total_score"),
    Column("pass_mark", "pass_mark"),
    Column("passed", "passed", "is_accept"),
)
ANSWER_COLUMNS = (
    Column("attempt", "attempt", "quiz.pk"),
    Column("student_uuid", "student_uuid", "quiz.student.uuid"),
    Column("position", "position", "item.position"),
    Column("question_id", "question_id", "question.pk"),
    Column("question", "question", "question.description"),
    Column("chosen", "chosen"),
    Column("chosen_text", "chosen_text"),
    Column("correct", "correct"),
    Column("correct_text", "correct_text"),
    Column("result", "result"),
    Column("points", "points"),
    Column("answered_at", "answered_at", "item.answered_at"),
)


def _share(number: int | None):
    return lambda row: next(c.share.share for c in row.choices if c.number == number)


ITEM_COLUMNS = (
    Column("question_id", "question_id", "question.pk"),
    Column("number", "number"),
    Column("position", "position", "question.position"),
    Column("retired", "retired"),
    Column("question", "question", "question.description"),
    Column("correct_choice", "correct_choice", "question.correct"),
    Column("weight", "weight", "question.weight"),
    Column("attempts", "attempts", "stats.attempts"),
    Column("right", "right", "stats.right"),
    Column("facility", "facility", "stats.facility"),
    Column("point_biserial", "point_biserial", "stats.point_biserial"),
    Column("upper_lower", "upper_lower", "stats.upper_lower"),
    *(Column(f"share_{n}", f"share_{n}", _share(n)) for n in (1, 2, 3, 4)),
    Column("share_unanswered", "share_unanswered", _share(None)),
    Column("flags", "flags", "stats.flags"),
)

LISTING = Listing(
    columns=COLUMNS,
    default_sort="-started",
    search_fields=("student__uuid", "student__mobile"),
    filter_form=ResultsFilters,
    export_columns=EXPORT_COLUMNS,
)
ITEM_LISTING = replace(LISTING, filter_form=ItemFilters)
FLAGS = {
    item_scoring.HARD: _("Hard"),
    item_scoring.EASY: _("Easy"),
    item_scoring.LOW_DISCRIMINATION: _("Low discrimination"),
}


def _exam(pk: int) -> Exam:
    return get_object_or_404(Exam.objects.select_related("customer"), pk=pk)


def _for(listing: Listing, exam: Exam) -> Listing:
    filters = listing.filter_form
    assert filters is not None and issubclass(filters, ItemFilters)  # this module's listings
    return replace(listing, filter_form=filters.for_exam(exam))


def _histogram(summary: selectors.ResultsSummary, pass_mark: float) -> list[tuple[str, int, str]]:
    """The histogram's bars, each labelled by its lowest score in the reader's digits (the
    labels of ranges would overlap); bins wholly below the pass mark red, straddling it amber."""
    return [
        (
            num(b.low),
            b.count,
            "bad" if b.high <= pass_mark else "warn" if b.low < pass_mark else "ok",
        )
        for b in summary.histogram
    ]


@staff_view()
def exam_results(request: StaffRequest, pk: int) -> HttpResponse:
    """The exam's attempts, one row each, with the totals of the filtered set."""
    exam = _exam(pk)
    listing = _for(LISTING, exam)
    quizzes = selectors.attempts(exam)
    if wants_export(request):
        return listing.export(request, quizzes, f"exam-{exam.pk}-attempts")
    page = listing.page(request, quizzes)
    filtered = page.page.paginator.object_list  # the filtered set
    assert isinstance(filtered, QuerySet)
    summary = selectors.results_summary(filtered)
    context = {
        "exam": exam,
        "listing": page,
        "summary": summary,
        "histogram": _histogram(summary, exam.accept_score),
        "search_hint": _("Student id or mobile"),
    }
    return render_results(request, "staff/exam_results/results.html", context)


@staff_view()
def exam_answers(request: StaffRequest, pk: int) -> HttpResponse:
    """Every answer of the filtered attempts, one row each, as CSV or XLSX (same filters)."""
    exam = _exam(pk)
    if not wants_export(request):
        query = request.GET.urlencode()
        return redirect(with_query(reverse("staff:exam_results", args=[exam.pk]), query))
    listing = _for(LISTING, exam)
    filtered, _form, _q = listing.filtered(request, selectors.attempts(exam))
    sort = listing.sort_of(request)
    column = next(c for c in listing.columns if c.key == sort.lstrip("-"))
    assert column.order_by is not None, "sort_of() names a sortable column"
    order = f"-{column.order_by}" if sort.startswith("-") else column.order_by
    rows = selectors.answers(filtered, order_by=(order,))
    return download(request, ANSWER_COLUMNS, rows, f"exam-{exam.pk}-answers")


@staff_view()
def exam_items(request: StaffRequest, pk: int) -> HttpResponse:
    """Item analysis of the exam's completed attempts (filtered by date and customer)."""
    exam = _exam(pk)
    listing = _for(ITEM_LISTING, exam)
    filtered, form, q = listing.filtered(request, selectors.attempts(exam))
    report = selectors.item_analysis(exam, filtered)
    if wants_export(request):
        return download(request, ITEM_COLUMNS, report.rows, f"exam-{exam.pk}-items")
    context = {
        "exam": exam,
        "report": report,
        "listing": {"form": form, "q": q, "sort": ""},
        "flags": FLAGS,
        "search_hint": _("Student id or mobile"),
    }
    return render_results(request, "staff/exam_results/items.html", context)


urlpatterns = [
    path("exams/<int:pk>/results/", exam_results, name="exam_results"),
    path("exams/<int:pk>/results/answers/", exam_answers, name="exam_answers"),
    path("exams/<int:pk>/items/", exam_items, name="exam_items"),
]
