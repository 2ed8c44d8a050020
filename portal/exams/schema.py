"""The exam file format ("portal-exam/1") declared once: the importer, the admin and the console
all validate through these models, and `problems()` says what is wrong and where.

Strict pydantic models, unknown fields refused: `true` is not a number, `"4"` is not `4`,
`20.0` is not a whole number, NaN and infinities are refused. Messages are written for people
(the author in the console as well as the operator running `import_exam`), and are the same
whichever door the input came through.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from annotated_types import Ge, Le, MaxLen, MinLen
from django import forms
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from portal import jsonformat
from portal.db import column_length
from portal.exams.models import Exam

FORMAT = "portal-exam/1"

# The largest values Positive(Small)IntegerField holds on every database Django supports.
SMALL_INT_MAX = 32767
INT_MAX = jsonformat.INT_MAX
TITLE_MAX_LENGTH = column_length(Exam, "title")
# The longest exam: a week, in minutes. A quiz is one sitting; a week still holds a take-home
# exam, and anything longer is a slip of the keyboard (an extra zero). With the longest
# accommodation (Student: × 4, + 1440 minutes) a deadline is at most 29 days ahead, where
# INT_MAX minutes put it past the year 9999 and the launch failed.
DURATION_MAX = 7 * 24 * 60
# The heaviest question. Weights are relative (only earned / possible counts), so 1000 : 1 is
# more than any test needs; and a quiz's sums stay finite (exact for whole weights): even INT_MAX
# questions of weight 1000 total 2.1e12, below 2**53, where three of 1e308 made an infinity.
WEIGHT_MAX = 1000

# Shared with the cluster format (portal/jsonformat.py): not blank, stored as written.
Text = jsonformat.NotBlank
Title = Annotated[jsonformat.NotBlank, MaxLen(TITLE_MAX_LENGTH)]
Language = jsonformat.Language
Choice = Annotated[int, Ge(1), Le(4)]
Weight = Annotated[float, Ge(0), Le(WEIGHT_MAX), Field(allow_inf_nan=False)]
Percent = Annotated[float, Ge(0), Le(100), Field(allow_inf_nan=False)]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class QuestionIn(_Strict):
    """One question of the bank: text, four choices, the right one, its weight."""

    description: Text
    type: bool = True
    c1: Text
    c2: Text
    c3: Text
    c4: Text
    correct: Choice
    weight: Weight = 1.0
    can_shuffle: bool = False


QUESTION_FIELDS = tuple(QuestionIn.model_fields)


class ExamSettingsIn(_Strict):
    """An exam's settings, without its questions (the console's settings form)."""

    title: Title
    type: Annotated[int, Ge(0), Le(SMALL_INT_MAX)] = 1
    language: Language
    accept_score: Percent = 60
    number_of_question: Annotated[int, Ge(1), Le(INT_MAX)]
    duration: Annotated[int, Ge(1), Le(DURATION_MAX)]
    can_back: bool = True
    is_active: bool = True


SETTINGS_FIELDS = tuple(ExamSettingsIn.model_fields)


class ExamIn(ExamSettingsIn):
    """An exam with its whole question bank."""

    questions: Annotated[list[QuestionIn], MinLen(1)]

    @model_validator(mode="after")
    def _bank_is_big_enough(self) -> "ExamIn":
        check_bank_size(self.number_of_question, len(self.questions))
        return self


class ExamFile(_Strict):
    """A whole exam file."""

    format: Literal["portal-exam/1"]
    exam: ExamIn


def check_bank_size(number_of_question: int, bank: int) -> None:
    """Refuse a bank with fewer questions than each quiz draws (the candidate would see
    "1 of 1" under an intro that promised 5)."""
    if bank < number_of_question:
        raise PydanticCustomError(
            "bank_too_small", "bank too small", {"bank": bank, "draws": number_of_question}
        )


def bank_too_small_message(number_of_question: int, bank: int) -> str:
    return ngettext(
        "Each quiz draws %(draws)d questions, but the bank has only %(bank)d question: "
        "add questions or draw fewer.",
        "Each quiz draws %(draws)d questions, but the bank has only %(bank)d questions: "
        "add questions or draw fewer.",
        bank,
    ) % {"draws": number_of_question, "bank": bank}


# ---------------------------------------------------------------------------------------------
# Messages


_ABSENT = object()


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: where (`loc`, list indexes from 0) and what."""

    loc: tuple[str | int, ...]
    message: str
    value: Any = field(default=_ABSENT, compare=False)

    @property
    def key(self) -> str:
        """The place as a key, e.g. "exam.questions[2].correct" ("__all__" for the whole)."""
        return location(self.loc) or "__all__"

    @property
    def field(self) -> str:
        """The field's own name ("correct"), "__all__" when the problem is the whole input."""
        names = [part for part in self.loc if isinstance(part, str)]
        return names[-1] if names else "__all__"

    def __str__(self) -> str:
        where = location(self.loc)
        numbers = [part for part in self.loc if isinstance(part, int)]
        if numbers and "questions" in self.loc:
            # People count questions from 1 (the console, the admin, an editor's outline).
            where += " " + _("(question %(n)d)") % {"n": numbers[-1] + 1}
        text = f"{where}: {self.message}" if where else self.message
        if self.value is not _ABSENT and _worth_showing(self.value):
            text += " " + _("Got: %(value)s") % {"value": _shown(self.value)}
        return text


def location(loc: tuple[str | int, ...]) -> str:
    """("exam", "questions", 2, "correct") → "exam.questions[2].correct"."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _worth_showing(value: Any) -> bool:
    return not isinstance(value, dict | list) and value is not None


def _shown(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


def problems(error: ValidationError, *, prefix: tuple[str | int, ...] = ()) -> list[Problem]:
    """Each error of a validation by the models above, as a Problem with a clear message.

    The message depends on the field's rule, not on which check failed, so `"5"`, `5` and
    `true` for `correct` all read "Must be a whole number from 1 to 4." (the same in a form).
    """
    found = []
    # A question validated alone (a form of one question) has its fields at the top.
    of_question = error.title == QuestionIn.__name__
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        kind = item["type"]
        if kind == "bank_too_small":
            # The rule is on the whole exam; the field to change is number_of_question.
            loc = (*loc, "number_of_question")
            message = bank_too_small_message(item["ctx"]["draws"], item["ctx"]["bank"])
            found.append(Problem((*prefix, *loc), message))
            continue
        message = _message(kind, loc, item, of_question or "questions" in loc)
        value = _ABSENT if kind in {"missing", "extra_forbidden"} else item.get("input", _ABSENT)
        found.append(Problem((*prefix, *loc), message, value))
    return found


def _message(kind: str, loc: tuple, item: Mapping[str, object], in_question: bool) -> str:
    if kind == "missing":
        return _("This field is required.")
    if kind == "extra_forbidden":
        return _("Unknown field: the exam format has no field of this name.")
    if kind in {"model_type", "model_attributes_type", "dict_type"}:
        return _("Must be a JSON object.")
    if kind == "control_character":
        return _("Must not contain control characters (%(char)s).") % item["ctx"]
    name = next((part for part in reversed(loc) if isinstance(part, str)), "")
    if name == "format":
        return _(
            'Must be "%(format)s": this is not a portal exam file, or a version this portal '
            "cannot read."
        ) % {"format": FORMAT}
    if name == "questions" and not isinstance(loc[-1], int):
        return _("Must be a non-empty list of questions.")
    # An exam's `type` (a number) is not a question's (true or false).
    return rule(name, QuestionIn if in_question else ExamSettingsIn)


def rule(name: str, model: type[BaseModel] | None = None) -> str:
    """What a valid value of the field `name` (of `model`; by default of an exam's settings,
    else of a question) is, as the message shown when it isn't."""
    if name == "language":
        codes = ", ".join(code for code, _name in settings.LANGUAGES)
        return _("Must be one of %(codes)s.") % {"codes": codes}
    if name == "title":
        return _("Must not be blank, and at most %(n)d characters long.") % {"n": TITLE_MAX_LENGTH}
    if model is not None:
        info = model.model_fields.get(name)
    else:
        info = ExamSettingsIn.model_fields.get(name) or QuestionIn.model_fields.get(name)
    if info is None:
        return _("Not valid here.")
    low = next((m.ge for m in info.metadata if isinstance(m, Ge)), None)
    high = next((m.le for m in info.metadata if isinstance(m, Le)), None)
    if info.annotation is bool:
        return _("Must be true or false.")
    if info.annotation is int:
        if high is None or high == INT_MAX:  # the database's limit, not a rule worth reading
            return _("Must be a whole number of at least %(low)d.") % {"low": low}
        return _("Must be a whole number from %(low)d to %(high)d.") % {"low": low, "high": high}
    if info.annotation is float:
        if high is None:
            return _("Must be a number of at least %(low)s.") % {"low": f"{low:g}"}
        return _("Must be a number from %(low)s to %(high)s.") % {
            "low": f"{low:g}",
            "high": f"{high:g}",
        }
    return _("Must be text, not blank.")


def messages(found: list[Problem]) -> dict[str, list[str]]:
    """{key: [message, ...]} — what a form shows on each field ("__all__" for the form)."""
    grouped: dict[str, list[str]] = {}
    for problem in found:
        grouped.setdefault(problem.key, []).append(problem.message)
    return grouped


def describe(found: list[Problem], *, limit: int = 20) -> str:
    """Problems as lines for a terminal, the first `limit` of them."""
    lines = [str(problem) for problem in found[:limit]]
    if len(found) > limit:
        lines.append(_("… and %(n)d more.") % {"n": len(found) - limit})
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Forms: let the declaration, not Django's form fields, decide what is valid, so a form shows
# the same messages as the importer (a form field's own checks would answer first, in words of
# their own).


class LooseNumber(forms.Field):
    """Reads "5" as 5 and "2.5" as 2.5 (for a float field), and hands anything else on as it
    was typed, for the declaration to refuse with its message."""

    def __init__(self, *, kind: type, **kwargs: Any) -> None:
        self.kind = kind
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            if value == "":
                return None
            try:
                return int(value) if self.kind is int else float(value)
            except ValueError:
                return value
        return value


def loosen(form: forms.BaseForm, model: type[BaseModel]) -> None:
    """Replace the checks of `form`'s fields that `model` declares by the declaration's own
    (call in the form's __init__, and `check_form` in its clean). Widgets stay as they were."""
    for name, info in model.model_fields.items():
        field = form.fields.get(name)
        if field is None or info.annotation is bool:
            continue
        common = {
            "required": False,
            "widget": field.widget,
            "label": field.label,
            "help_text": field.help_text,
            "initial": field.initial,
        }
        if info.annotation is int or info.annotation is float:
            number = int if info.annotation is int else float
            form.fields[name] = LooseNumber(kind=number, **common)
        else:
            # A plain text field (a select's choices stay on its widget): the declaration
            # says which values are valid, and how to say they are not.
            form.fields[name] = forms.CharField(strip=False, **common)


def check_form[M: BaseModel](
    form: forms.BaseForm, model: type[M], defaults: Mapping[str, Any] | None = None
) -> M | None:
    """Validate the form's values (`defaults` for fields it doesn't show) as `model`; put each
    problem on its field (or the form) and return None, or return the validated model."""
    values = dict(defaults or {})
    for name in model.model_fields:
        if name in form.fields:
            if name not in form.cleaned_data:
                return None  # the field's own error is already shown
            values[name] = form.cleaned_data[name]
    try:
        return model.model_validate(values)
    except ValidationError as error:
        for problem in problems(error):
            target = problem.field if problem.field in form.fields else None
            form.add_error(target, problem.message)
        return None
