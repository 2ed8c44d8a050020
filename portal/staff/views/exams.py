"""Exams in the staff console: the list per customer, the editor of an exam and its question
bank, creating, importing and exporting exam files, and a preview of the candidate's page.

Viewers and operators read; authors change. Every change goes through portal.exams.authoring,
which validates by the one declared exam format (portal.exams.schema), keeps what earlier
attempts saw (a drawn question is versioned, never edited) and writes the audit row; its
refusals appear on the fields in the same words the importer and the admin use. Without
JavaScript each action is a form that posts and redirects back (a question's edit form and a
removal's confirmation are pages of their own); with htmx the same forms swap the part that
changed.
"""

import json
import secrets
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS
from django.db.models import OuterRef, QuerySet
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.http import content_disposition_header
from django.utils.text import format_lazy, slugify
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from portal.customers.models import Customer
from portal.exams import authoring, rendering, schema, transfer
from portal.exams.authoring import AuthoringError
from portal.exams.models import Exam, Question, Quiz, draws
from portal.exams.schema import ExamSettingsIn, Problem, QuestionIn
from portal.http import StaffRequest
from portal.staff import roles
from portal.staff.access import staff_view
from portal.staff.listing import (
    ANY,
    ActiveFilters,
    Column,
    Listing,
    count_per_row,
    model_choice,
)
from portal.staff.responses import partial_response
from portal.text import read_json
from scoring import exams as exam_scoring

EDITOR = "staff/exams/editor.html"
MAX_NEW_QUESTIONS = 200


# --- forms: Django forms for the widgets and labels, the declaration for the rules. `loosen`
# hands every value the declaration checks on as typed, so the messages are the importer's.

SETTINGS_LABELS = {
    "title": _("Title"),
    "language": _("Language"),
    "accept_score": _("Pass mark (%)"),
    "number_of_question": _("Questions per quiz"),
    "duration": _("Duration (minutes)"),
    "can_back": _("Answers may be changed"),
    "type": _("Type"),
    "is_active": _("Active (open to launches)"),
}
SETTINGS_HELP = {
    "language": _("The language of the candidate's pages."),
    "accept_score": _("In percent of the weighted score, 0 to 100."),
    "number_of_question": _(
        "Drawn from the live bank for each quiz; the bank needs at least as many."
    ),
    "duration": _("From launch to the deadline."),
    "can_back": _("Whether a candidate may change an answer and go back to answered questions."),
    "type": _("The exam's type number, passed on as given (1 unless a customer needs another)."),
}


class ExamSettingsForm(forms.ModelForm):
    """An exam's settings, checked by ExamSettingsIn."""

    class Meta:
        model = Exam
        fields = [
            "title",
            "language",
            "number_of_question",
            "duration",
            "accept_score",
            "can_back",
            "type",
        ]
        labels = SETTINGS_LABELS
        help_texts = SETTINGS_HELP
        # No min/max in the page: the browser would refuse in its own words, before the
        # declaration could say what it says everywhere else.
        widgets = {"accept_score": forms.NumberInput({"step": "any"})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        schema.loosen(self, ExamSettingsIn)

    def _post_clean(self) -> None:
        # The model's own validators would answer first, in words of their own: the declaration
        # (checked by the view through the service) is the rule.
        pass

    def declared(self, defaults: dict[str, Any] | None = None) -> ExamSettingsIn | None:
        """The settings as the declaration reads them; errors on the fields when refused."""
        if not self.is_valid():
            return None
        return schema.check_form(self, ExamSettingsIn, defaults)


class NewExamForm(ExamSettingsForm):
    """A new exam: its customer and settings (the questions come in a formset beside it)."""

    customer = forms.ModelChoiceField(
        label=_("Customer"), queryset=Customer.objects.order_by("name"), empty_label=None
    )

    class Meta(ExamSettingsForm.Meta):
        fields = ["customer", *ExamSettingsForm.Meta.fields, "is_active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["is_active"].initial = True

    def settings_values(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in schema.SETTINGS_FIELDS}


class QuestionForm(forms.ModelForm):
    """One question of the bank, checked by QuestionIn. `choice_rows` pairs each choice's text
    with its "correct" radio, so the right answer is marked where it is written."""

    class Meta:
        model = Question
        fields = ["description", "c1", "c2", "c3", "c4", "correct", "weight", "can_shuffle"]
        labels = {
            "description": _("Question"),
            "c1": _("Choice 1"),
            "c2": _("Choice 2"),
            "c3": _("Choice 3"),
            "c4": _("Choice 4"),
            "correct": _("Correct choice"),
            "weight": _("Weight"),
            "can_shuffle": _("Shuffle the choices for each candidate"),
        }
        help_texts = {
            "weight": format_lazy(
                _("How much the question counts in the weighted score (0 to {most})."),
                most=schema.WEIGHT_MAX,
            ),
        }
        widgets = {
            "description": forms.Textarea({"rows": 3}),
            **{f"c{n}": forms.Textarea({"rows": 1}) for n in range(1, 5)},
            "correct": forms.RadioSelect(choices=[(n, str(n)) for n in range(1, 5)]),
            "weight": forms.NumberInput({"step": "any"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        schema.loosen(self, QuestionIn)

    def _post_clean(self) -> None:
        pass  # the declaration is the rule (see ExamSettingsForm)

    def choice_rows(self) -> list[tuple[Any, Any]]:
        radios = list(self["correct"])
        return [(radios[n - 1], self[f"c{n}"]) for n in range(1, 5)]

    def other_fields(self) -> list[Any]:
        return [self["weight"], self["can_shuffle"]]

    def declared(self, defaults: dict[str, Any] | None = None) -> QuestionIn | None:
        if not self.is_valid():
            return None
        return schema.check_form(self, QuestionIn, defaults)

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in self.Meta.fields}


NewQuestionFormSet = forms.formset_factory(
    QuestionForm, extra=1, max_num=MAX_NEW_QUESTIONS, absolute_max=MAX_NEW_QUESTIONS
)


def show_problems(error: AuthoringError, form: forms.BaseForm) -> None:
    """Put each refusal of the service on the form's field it names (or on the form)."""
    for problem in error.problems:
        field = problem.field if problem.field in form.fields else None
        form.add_error(field, problem.message)


def show_refusal(request: StaffRequest, error: AuthoringError) -> None:
    """Each refusal of the service as an error message (an action with no form to put it on)."""
    for problem in error.problems:
        messages.error(request, problem.message)


# --- the list


class ExamFilters(ActiveFilters):
    customer = model_choice(_("Customer"), Customer.objects.order_by("name"))
    language = forms.ChoiceField(label=_("Language"), required=False, choices=ANY)
    field_order = ("customer", "language", "active")
    lookups = {"customer": "customer", "language": "language"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        language = self.fields["language"]
        assert isinstance(language, forms.ChoiceField)
        language.choices = [*ANY, *settings.LANGUAGES]


EXAMS = Listing(
    columns=(
        Column("title", _("Title"), order_by="title"),
        Column("customer", _("Customer"), "customer.name", order_by="customer__name"),
        Column("language", _("Language"), order_by="language"),
        Column("bank", _("Questions in the bank"), "bank_size", order_by="bank_size"),
        Column("draws", _("Drawn per quiz"), "number_of_question", order_by="number_of_question"),
        Column("duration", _("Minutes"), "duration", order_by="duration"),
        Column("pass_mark", _("Pass mark (%)"), "accept_score", order_by="accept_score"),
        Column("active", _("Active"), "is_active", order_by="is_active"),
        Column("attempts", _("Attempts"), "attempt_count", order_by="attempt_count"),
        Column("updated", _("Updated"), "updated_at", order_by="updated_at"),
    ),
    export_columns=(
        Column("eurl", _("eurl"), "pk"),
        Column("customer", _("Customer"), "customer.name"),
        Column("title", _("Title")),
        Column("language", _("Language")),
        Column("bank", _("Questions in the bank"), "bank_size"),
        Column("draws", _("Drawn per quiz"), "number_of_question"),
        Column("duration", _("Minutes"), "duration"),
        Column("pass_mark", _("Pass mark (%)"), "accept_score"),
        Column("can_back", _("Answers may be changed"), "can_back"),
        Column("active", _("Active"), "is_active"),
        Column("attempts", _("Attempts"), "attempt_count"),
        Column("created", _("Created"), "created_at"),
        Column("updated", _("Updated"), "updated_at"),
    ),
    default_sort="-updated",
    search_fields=("title", "customer__name"),
    filter_form=ExamFilters,
)


def exam_rows() -> QuerySet[Exam]:
    """Exams with their customer, live bank size and attempts, in one query."""
    live = Question.objects.live().filter(exam=OuterRef("pk"))
    quizzes = Quiz.objects.filter(exam=OuterRef("pk"))
    return Exam.objects.select_related("customer").annotate(
        bank_size=count_per_row(live, "exam"), attempt_count=count_per_row(quizzes, "exam")
    )


@staff_view()
def exams(request: StaffRequest) -> HttpResponse:
    return EXAMS.respond(request, exam_rows(), "staff/exams/list.html", "exams")


# --- creating an exam: customer, settings and its first questions (an exam is never saved
# with a bank smaller than what each quiz draws).


def _grown(data, prefix: str, start: int, count: int):
    """The posted data with the question formset grown from `start` to `count` forms: those
    typed kept as typed, each new one as an untouched form would post (its weight 1, ...), so
    that it starts as the first did and is left out when left blank."""
    data = data.copy()
    count = min(count, MAX_NEW_QUESTIONS)
    data[f"{prefix}-TOTAL_FORMS"] = str(count)
    blank = QuestionForm()
    for index in range(start, count):
        for name, field in blank.fields.items():
            value = blank[name].value()
            key = f"{prefix}-{index}-{name}"
            if isinstance(field.widget, forms.CheckboxInput):
                if value:
                    data[key] = "on"
            else:
                data[key] = "" if value is None else str(value)
    return data


@staff_view(roles.AUTHOR)
def exam_new(request: StaffRequest) -> HttpResponse:
    """GET: the form (customer chosen by ?customer=); POST: create, or add a question slot."""
    if request.method != "POST":
        form = NewExamForm(initial={"customer": request.GET.get("customer"), "language": "en"})
        questions = NewQuestionFormSet(prefix="questions")
        return render(request, "staff/exams/new.html", {"form": form, "questions": questions})
    form = NewExamForm(request.POST)
    questions = NewQuestionFormSet(request.POST, prefix="questions")
    if "more" in request.POST:
        questions = NewQuestionFormSet(
            _grown(request.POST, "questions", total := questions.total_form_count(), total + 1),
            prefix="questions",
        )
        return render(request, "staff/exams/new.html", {"form": form, "questions": questions})
    exam = _create_exam(request, form, questions)
    if exam is not None:
        messages.success(request, gettext("Exam %(title)s created.") % {"title": exam.title})
        return HttpResponseRedirect(reverse("staff:exam", args=[exam.pk]))
    # Enough slots for the questions the author asked each quiz to draw.
    wanted = form.fields["number_of_question"].to_python(request.POST.get("number_of_question"))
    if isinstance(wanted, int) and questions.is_valid():
        count = max(questions.total_form_count(), min(wanted, MAX_NEW_QUESTIONS))
        if count > questions.total_form_count():
            grown = NewQuestionFormSet(
                _grown(request.POST, "questions", questions.total_form_count(), count),
                prefix="questions",
            )
            _copy_errors(questions, grown)
            questions = grown
    context = {"form": form, "questions": questions}
    return render(request, "staff/exams/new.html", context, status=400)


def _create_exam(request: StaffRequest, form: NewExamForm, questions) -> Exam | None:
    if not (form.is_valid() and questions.is_valid()):
        return None
    kept = [q for q in questions.forms if q.has_changed()]
    document = {
        **form.settings_values(),
        "questions": [q.values() | {"type": True} for q in kept],
    }
    try:
        return authoring.exam_create(
            customer=form.cleaned_data["customer"], data=document, actor=request.user
        )
    except AuthoringError as error:
        _show_exam_problems(error.problems, form, questions, kept)
        return None


def _show_exam_problems(
    problems: Iterable[Problem], form: forms.BaseForm, questions, kept: list[QuestionForm]
) -> None:
    """Each problem of an ExamIn on the settings field or on the question form it names."""
    for problem in problems:
        loc = problem.loc
        if len(loc) >= 2 and loc[0] == "questions" and isinstance(loc[1], int):
            target = kept[loc[1]]
            field = problem.field if problem.field in target.fields else None
            target.add_error(field, problem.message)
        elif loc and loc[0] == "questions":
            questions._non_form_errors.append(problem.message)
        else:
            field = problem.field if problem.field in form.fields else None
            form.add_error(field, problem.message)


def _copy_errors(source, target) -> None:
    """Keep the errors found on `source`'s forms on `target`'s (the same forms, more slots)."""
    target.is_valid()
    for old, new in zip(source.forms, target.forms, strict=False):
        for field, errors in old.errors.items():
            for error in errors:
                new.add_error(None if field == NON_FIELD_ERRORS else field, error)
    target._non_form_errors.extend(source.non_form_errors())


# --- the editor


def _exam_or_404(pk: int) -> Exam:
    return get_object_or_404(Exam.objects.select_related("customer"), pk=pk)


def _shown(question: Question) -> Question:
    """The question with its choices as (number, text, correct) rows, for its card."""
    question.choice_rows = [
        (n, question.choice(n), n == question.correct) for n in exam_scoring.CHOICES
    ]
    return question


def _bank(exam: Exam) -> list[Question]:
    """The live bank in order, each question with the number of attempts that drew it."""
    questions = list(Question.objects.live().filter(exam=exam).order_by("position", "id"))
    used_by = draws(exam.pk, (question.pk for question in questions))
    for question in questions:
        question.used_by = used_by[question.pk]
    return [_shown(question) for question in questions]


def _editor_context(request: StaffRequest, exam: Exam, **extra: Any) -> dict:
    bank = _bank(exam)
    context = {
        "exam": exam,
        "bank": bank,
        "bank_size": len(bank),
        "short": len(bank) < exam.number_of_question,
        "attempts": exam.quizzes.count(),
        "retired": Question.objects.filter(exam=exam, retired_at__isnull=False).count(),
        "other_language": _other_language(exam.language),
        "other_language_name": dict(settings.LANGUAGES)[_other_language(exam.language)],
    }
    if request.rights.author:
        context["settings_form"] = ExamSettingsForm(instance=exam)
        context["add_form"] = QuestionForm(prefix="new")
    return context | extra


@staff_view()
@require_GET
def exam(request: StaffRequest, pk: int) -> HttpResponse:
    exam = _exam_or_404(pk)
    return render(request, EDITOR, _editor_context(request, exam))


def _back(request: StaffRequest, exam: Exam, *parts: str, **extra: Any) -> HttpResponse:
    """After an action: the editor again (no JS), or (htmx) its partials `parts`, the first
    swapped into the target and the others out of band, plus the messages."""
    if not request.htmx:
        return HttpResponseRedirect(reverse("staff:exam", args=[exam.pk]))
    context = _editor_context(request, exam, **extra)
    rendered = [(f"{EDITOR}#{part}", context | {"oob": i > 0}) for i, part in enumerate(parts)]
    return partial_response(request, *rendered)


def _refused(request: StaffRequest, exam: Exam, *parts: str, **extra: Any) -> HttpResponse:
    """A form refused: the editor with its errors (400 without JS; htmx swaps the partials)."""
    if request.htmx:
        return _back(request, exam, *parts, **extra)
    return render(request, EDITOR, _editor_context(request, exam, **extra), status=400)


@staff_view(roles.AUTHOR)
@require_POST
def exam_settings(request: StaffRequest, pk: int) -> HttpResponse:
    exam = _exam_or_404(pk)
    form = ExamSettingsForm(request.POST, instance=exam)
    data = form.declared()
    if data is not None:
        try:
            authoring.exam_update_settings(exam=exam, data=data, actor=request.user)
        except AuthoringError as error:
            show_problems(error, form)
        else:
            messages.success(request, gettext("Settings saved."))
            return _back(request, exam, "settings", "summary")
    return _refused(request, exam, "settings", settings_form=form)


@staff_view(roles.AUTHOR)
@require_POST
def exam_set_active(request: StaffRequest, pk: int) -> HttpResponse:
    exam = _exam_or_404(pk)
    active = request.POST.get("is_active") == "true"
    try:
        authoring.exam_set_active(exam=exam, active=active, actor=request.user)
    except AuthoringError as error:
        show_refusal(request, error)
    else:
        if active:
            messages.success(request, gettext("The exam is active: customers can launch it."))
        else:
            messages.success(
                request,
                gettext(
                    "The exam is inactive: new launches are refused; started quizzes can finish."
                ),
            )
    return _back(request, exam, "summary")


# --- questions


def _question_or_404(pk: int, question_pk: int) -> Question:
    question = get_object_or_404(
        Question.objects.live().select_related("exam__customer"), pk=question_pk, exam=pk
    )
    question.used_by = draws(question.exam_id, [question.pk])[question.pk]
    return question


def _number_of(question: Question) -> int:
    """The question's number in the live bank, as the editor shows it."""
    before = Question.objects.live().filter(exam=question.exam_id)
    return (
        before.filter(position__lt=question.position).count()
        + before.filter(position=question.position, pk__lt=question.pk).count()
        + 1
    )


@staff_view(roles.AUTHOR)
@require_POST
def question_add(request: StaffRequest, pk: int) -> HttpResponse:
    exam = _exam_or_404(pk)
    form = QuestionForm(request.POST, prefix="new")
    data = form.declared({"type": True})
    if data is not None:
        try:
            question = authoring.question_add(exam=exam, data=data, actor=request.user)
        except AuthoringError as error:
            show_problems(error, form)
        else:
            messages.success(
                request, gettext("Question %(n)d added.") % {"n": _number_of(question)}
            )
            if not request.htmx:
                url = reverse("staff:exam", args=[exam.pk])
                return HttpResponseRedirect(f"{url}#question-{question.pk}")
            return _back(request, exam, "bank", "summary")
    return _refused(request, exam, "bank", add_form=form)


@staff_view(roles.AUTHOR)
def question_edit(request: StaffRequest, pk: int, question_pk: int) -> HttpResponse:
    """Edit a question: a page of its own, or (htmx) its card in place."""
    question = _question_or_404(pk, question_pk)
    exam = question.exam
    form = QuestionForm(request.POST or None, instance=question)
    context = {"exam": exam, "question": question, "form": form, "number": _number_of(question)}
    if request.method == "POST":
        if request.POST.get("cancel"):
            return _card_or_back(request, exam, question)
        data = form.declared({"type": question.type})
        if data is not None:
            try:
                live = authoring.question_update(question=question, data=data, actor=request.user)
            except AuthoringError as error:
                show_problems(error, form)
            else:
                if live.pk != question.pk:
                    message = gettext(
                        "Question %(n)d saved as a new version: the attempts that drew it keep "
                        "the earlier one."
                    )
                else:
                    message = gettext("Question %(n)d saved.")
                messages.success(request, message % {"n": context["number"]})
                return _card_or_back(request, exam, live, summary=True)
    if request.htmx:
        return partial_response(request, ("staff/exams/question_edit.html#edit_card", context))
    status = 400 if request.method == "POST" else 200
    return render(request, "staff/exams/question_edit.html", context, status=status)


def _card_or_back(
    request: StaffRequest, exam: Exam, question: Question, *, summary: bool = False
) -> HttpResponse:
    """After editing: the editor at the question (no JS), or (htmx) its card, and the exam's
    summary out of band when `summary` (a new version adds to the earlier versions kept)."""
    if not request.htmx:
        url = reverse("staff:exam", args=[exam.pk])
        return HttpResponseRedirect(f"{url}#question-{question.pk}")
    question = _shown(_question_or_404(exam.pk, question.pk))
    number = _number_of(question)
    size = Question.objects.live().filter(exam=exam).count()
    context = {
        "exam": exam,
        "question": question,
        "number": number,
        "first": number == 1,
        "last": number == size,
    }
    parts = [(f"{EDITOR}#question_card", context)]
    if summary:
        parts.append((f"{EDITOR}#summary", _editor_context(request, exam) | {"oob": True}))
    return partial_response(request, *parts)


@staff_view(roles.AUTHOR)
def question_remove(request: StaffRequest, pk: int, question_pk: int) -> HttpResponse:
    """GET: ask to confirm; POST: take it out of the bank (kept for attempts that drew it)."""
    question = _question_or_404(pk, question_pk)
    exam = question.exam
    if request.method != "POST":
        context = {"exam": exam, "question": question, "number": _number_of(question)}
        return render(request, "staff/exams/question_remove.html", context)
    number = _number_of(question)
    try:
        authoring.question_remove(question=question, actor=request.user)
    except AuthoringError as error:
        show_refusal(request, error)
    else:
        if question.used_by:
            message = gettext(
                "Question %(n)d removed from the bank; the attempts that drew it keep it."
            )
        else:
            message = gettext("Question %(n)d removed.")
        messages.success(request, message % {"n": number})
    return _back(request, exam, "bank", "summary")


@staff_view(roles.AUTHOR)
@require_POST
def question_move(request: StaffRequest, pk: int, question_pk: int) -> HttpResponse:
    """Move a question one place up or down in the bank (`direction`: up or down)."""
    question = _question_or_404(pk, question_pk)
    exam = question.exam
    order = list(
        Question.objects.live()
        .filter(exam=exam)
        .order_by("position", "id")
        .values_list("pk", flat=True)
    )
    index = order.index(question.pk)
    direction = request.POST.get("direction")
    other = index + (-1 if direction == "up" else 1)
    if direction in ("up", "down") and 0 <= other < len(order):
        order[index], order[other] = order[other], order[index]
        try:
            authoring.questions_reorder(exam=exam, order=order, actor=request.user)
        except AuthoringError as error:
            show_refusal(request, error)
        else:
            messages.success(
                request,
                gettext("Question %(n)d is now number %(m)d.") % {"n": index + 1, "m": other + 1},
            )
    return _back(request, exam, "bank")


# --- exam files


class ImportForm(forms.Form):
    """An exam file to import: a new exam of the chosen customer, or (for an exam) its bank."""

    customer = forms.ModelChoiceField(
        label=_("Customer"), queryset=Customer.objects.order_by("name"), empty_label=None
    )
    file = forms.FileField(
        label=_("Exam file"),
        help_text=_('A portal-exam/1 JSON file, as "Download exam file" gives.'),
        widget=forms.ClearableFileInput({"accept": ".json,application/json"}),
    )

    def __init__(self, *args: Any, exam: Exam | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if exam is not None:
            del self.fields["customer"]

    def document(self) -> Any:
        """The file's JSON, or a form error saying why it can't be read."""
        upload = self.cleaned_data["file"]
        if upload.size > transfer.MAX_FILE_BYTES:
            self.add_error("file", transfer.file_too_large())
            return None
        try:
            return read_json(upload.read().decode("utf-8-sig"), unique_keys=True)
        except UnicodeDecodeError:
            self.add_error("file", gettext("The file is not UTF-8 text: is it an exam file?"))
        except json.JSONDecodeError as error:
            self.add_error(
                "file",
                gettext("The file is not valid JSON: %(error)s (line %(line)d, column %(column)d).")
                % {"error": error.msg, "line": error.lineno, "column": error.colno},
            )
        return None


def _import(request: StaffRequest, exam: Exam | None) -> HttpResponse:
    initial = {"customer": request.GET.get("customer")}
    form = ImportForm(request.POST or None, request.FILES or None, exam=exam, initial=initial)
    context: dict[str, Any] = {"form": form, "exam": exam, "problems": []}
    if request.method == "POST" and form.is_valid():
        document = form.document()
        # A file it cannot read is on the form's errors; one that reads as `null` (None) is
        # the importer's to refuse, in its words, as any other document that is no object.
        if not form.errors:
            customer = exam.customer if exam is not None else form.cleaned_data["customer"]
            try:
                imported = authoring.exam_import(
                    customer=customer, document=document, actor=request.user, exam=exam
                )
            except AuthoringError as error:
                context["problems"] = error.problems
            else:
                if exam is None:
                    message = gettext("Exam %(title)s imported.")
                else:
                    message = gettext("The exam file replaced %(title)s and its bank.")
                messages.success(request, message % {"title": imported.title})
                return HttpResponseRedirect(reverse("staff:exam", args=[imported.pk]))
    status = 400 if request.method == "POST" else 200
    return render(request, "staff/exams/import.html", context, status=status)


@staff_view(roles.AUTHOR)
def exam_import(request: StaffRequest) -> HttpResponse:
    """Upload an exam file as a new exam of a customer."""
    return _import(request, None)


@staff_view(roles.AUTHOR)
def exam_replace(request: StaffRequest, pk: int) -> HttpResponse:
    """Upload an exam file over this exam: its settings and bank (earlier attempts keep what
    they saw)."""
    return _import(request, _exam_or_404(pk))


@staff_view()
@require_GET
def exam_export(request: StaffRequest, pk: int) -> HttpResponse:
    """The exam and its live bank as a portal-exam/1 file, named after the exam."""
    exam = _exam_or_404(pk)
    document = transfer.export_exam(exam)
    body = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    name = slugify(exam.title, allow_unicode=True) or "exam"
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"{name}-{exam.pk}.json"
    )
    return response


# --- preview: the candidate's page built from the live bank, in memory. Nothing is saved: no
# student, quiz or launch is created, and the page's script talks to `exam_preview_sync`,
# which answers like the exam's endpoints but keeps nothing.


def _other_language(language: str) -> str:
    codes = [code for code, _name in settings.LANGUAGES]
    return next((code for code in codes if code != language), language)


def _preview_items(exam: Exam, seed: int) -> tuple[list[rendering.PageItem], int]:
    """A draw of the live bank as a quiz would make it, as the candidate's page shows its items
    (nothing saved); and the bank's size."""
    bank = {q.pk: q for q in Question.objects.live().filter(exam=exam).order_by("position", "id")}
    drawn = exam_scoring.draw_questions(seed, list(bank), exam.number_of_question)
    items = [
        rendering.PageItem(
            question_id=qid,
            answer=None,
            choice_order="".join(
                str(n) for n in exam_scoring.choice_order(seed, qid, bank[qid].can_shuffle)
            ),
            description=bank[qid].description,
            c1=bank[qid].c1,
            c2=bank[qid].c2,
            c3=bank[qid].c3,
            c4=bank[qid].c4,
        )
        for qid in drawn
    ]
    return items, len(bank)


def _preview_seed(request: StaffRequest) -> int:
    raw = request.GET.get("seed", "")
    if raw.isascii() and raw.isdigit() and len(raw) < 19:
        return int(raw)
    return secrets.randbits(62)


@staff_view()
@require_GET
def exam_preview(request: StaffRequest, pk: int) -> HttpResponse:
    """The candidate's page as a student would see it (?language=en|fa, ?seed= for a draw)."""
    exam = _exam_or_404(pk)
    codes = [code for code, _name in settings.LANGUAGES]
    language = request.GET.get("language")
    language = language if language in codes else exam.language
    seed = _preview_seed(request)
    items, bank_size = _preview_items(exam, seed)
    now = timezone.now()
    quiz = Quiz(
        exam=exam,
        shuffle_seed=seed,
        start_at=now,
        deadline_at=now + timedelta(minutes=exam.duration),
        total_questions=len(items),
    )
    page_url = reverse("staff:exam_preview", args=[exam.pk])
    other = _other_language(language)
    remaining = exam.duration * 60
    context = {
        "quiz": quiz,
        "exam": exam,
        "items": items,
        "answered": 0,
        "total": len(items),
        "unanswered": len(items),
        "remaining_seconds": remaining,
        "remaining_minutes": (remaining + 59) // 60,
        # The preview's countdown runs on its own; asking the (pretend) server rarely is enough.
        "time_sync_seconds": min(remaining, 3600),
        "preview": {
            "key": f"preview-{exam.pk}",
            "page_url": f"{page_url}?language={language}&seed={seed}",
            "sync_url": reverse("staff:exam_preview_sync", args=[exam.pk]),
            "other_url": f"{page_url}?language={other}&seed={seed}",
            "other_language": other,
            "redraw_url": f"{page_url}?language={language}",
            "editor_url": reverse("staff:exam", args=[exam.pk]),
            "bank_size": bank_size,
        },
    }
    with translation.override(language):
        # The candidate's page renders its questions in Python: the preview uses the same code.
        regions = rendering.page_regions(items, total=len(items), can_back=exam.can_back)
        return render(request, "exam/page.html", context | regions)


@staff_view()
def exam_preview_sync(request: StaffRequest, pk: int) -> HttpResponse:
    """What the preview's script talks to instead of the exam's endpoints: an answer is
    "taken" and forgotten, the time left is left to the page's own countdown."""
    if not Exam.objects.filter(pk=pk).exists():
        raise Http404("No such exam.")
    if request.method == "POST":
        return JsonResponse({"saved": False, "preview": True})
    return JsonResponse({"remaining_seconds": None, "finished": False, "preview": True})


urlpatterns = [
    path("exams/", exams, name="exams"),
    path("exams/new/", exam_new, name="exam_new"),
    path("exams/import/", exam_import, name="exam_import"),
    path("exams/<int:pk>/", exam, name="exam"),
    path("exams/<int:pk>/settings/", exam_settings, name="exam_settings"),
    path("exams/<int:pk>/active/", exam_set_active, name="exam_set_active"),
    path("exams/<int:pk>/import/", exam_replace, name="exam_replace"),
    path("exams/<int:pk>/export/", exam_export, name="exam_export"),
    path("exams/<int:pk>/preview/", exam_preview, name="exam_preview"),
    path("exams/<int:pk>/preview/sync/", exam_preview_sync, name="exam_preview_sync"),
    path("exams/<int:pk>/questions/", question_add, name="exam_question_add"),
    path(
        "exams/<int:pk>/questions/<int:question_pk>/",
        question_edit,
        name="exam_question_edit",
    ),
    path(
        "exams/<int:pk>/questions/<int:question_pk>/remove/",
        question_remove,
        name="exam_question_remove",
    ),
    path(
        "exams/<int:pk>/questions/<int:question_pk>/move/",
        question_move,
        name="exam_question_move",
    ),
]
