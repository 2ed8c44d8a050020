"""The scorecard content format ("portal-scorecard/1"), declared once as strict pydantic models.

Loading validates through `ScorecardFile` (content.py, hence `load_scorecard`, `copy_scorecard`
and `seed_demo`), and so does every save and activation in the admin (a stored version is
exported, then validated); an export writes each object's fields in the order declared here;
schemas/scorecard.schema.json is generated from the models (`manage.py format_schemas`);
docs/scorecard.md describes the format for people.

pydantic reports every problem at once, but a load stops at the first, as it always has:
`first_problem()` picks the one a reader of the file meets first and words it as the format
always has, naming the place and the field, e.g. `Question governance_1, answer E: field
'points' must be a whole number from 0 to 25, got -1.`
"""

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal, cast, get_args, get_origin

from annotated_types import Ge, Le, MaxLen, MinLen
from django.core import exceptions
from django.core.validators import URLValidator
from django.db.models import Model
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    create_model,
    field_validator,
)
from pydantic_core import PydanticCustomError

from portal.db import column_length
from portal.jsonformat import NOT_BLANK, NotBlank, Plain, object_problem, wrong_format
from portal.scorecards.models import (
    BAND_KEYS,
    LETTERS,
    MAX_CHOICE_POINTS,
    SECTION_API_KEYS,
    Recommendation,
    Resource,
    ScoreBand,
    Scorecard,
    Section,
)
from portal.text import is_blank

FORMAT = "portal-scorecard/1"
SECTION_KEYS = tuple(SECTION_API_KEYS)
WEIGHT_PLACES = 3
_URL = URLValidator(schemes=["https", "http"])

if TYPE_CHECKING:
    # pydantic reads a Literal of a tuple of values; a type checker cannot, so to it they are str.
    type BandKey = str
    type Letter = str
    type SectionKey = str
    type SectionApiKey = str
    type Priority = str
    type ResourceType = str
else:
    BandKey = Literal[BAND_KEYS]
    Letter = Literal[LETTERS]
    SectionKey = Literal[SECTION_KEYS]
    SectionApiKey = Literal[tuple(SECTION_API_KEYS.values())]
    Priority = Literal[tuple(Recommendation.Priority.values)]
    ResourceType = Literal[tuple(Resource.Type.values)]


def _most(model: type[Model], name: str) -> Any:
    """At most the database column's length: the file and the table never disagree."""
    return Field(max_length=column_length(model, name))


def _refuse(message: str | None = None, *, at: tuple = (), place: str | None = None) -> Any:
    """A broken rule of the format. `message` says it (None: the field at `at`, a place below
    the validated object, is worded as its kind of field is); `place` names a whole list
    ("Bands") instead of the object."""
    context = {"message": message, "at": at, "place": place}
    return PydanticCustomError("scorecard_rule", "{message}", context)


def _rule(ok: Callable[[Any], bool]) -> Any:
    """A check of a field's value beyond its type; the formatter words what the field must be."""

    def check(value: Any) -> Any:
        if not ok(value):
            raise _refuse()
        return value

    return AfterValidator(check)


def _http_url(value: str) -> bool:
    try:
        _URL(value)
    except exceptions.ValidationError:
        return False
    return True


def _in_thousandths(weight: float) -> bool:
    # A finite weight (allow_inf_nan=False checked it first) has a whole exponent.
    return cast(int, Decimal(str(weight)).as_tuple().exponent) >= -WEIGHT_PLACES


def _without_default(schema: dict) -> None:
    schema.pop("default")  # absent, not null: a translation is an object when it is there


# Text is stored as written, without control characters (jsonformat.Plain); `Text` is not
# blank, `MaybeEmpty` may be "".
MaybeEmpty = Plain
Text = NotBlank
Url = Annotated[
    Text, _rule(_http_url), Field(json_schema_extra={"format": "uri", "pattern": "^https?://"})
]
Score = Annotated[int, Field(ge=0, le=100)]

# An object's optional texts in Persian (`fa`, content.py's TRANSLATIONS): these fields of it,
# each declared (and checked) as the English one.
TRANSLATED_FIELDS = {
    "document": ("title", "description"),
    "briefing": ("title", "description", "button_text"),
    "band": ("name", "description"),
    "section": ("name", "description"),
    "question": ("text",),
    "choice": ("text",),
    "rule": ("title", "description", "action_items", "estimated_impact", "time_to_implement"),
    "resource": ("title", "description"),
}
TRANSLATION: Any = Field(
    None,
    description="The object's texts in Persian: all of them (or leave it out: shown in English).",
    json_schema_extra=_without_default,
)


class _Strict(BaseModel):
    model_config = ConfigDict(
        strict=True, extra="forbid", frozen=True, use_attribute_docstrings=True
    )


class BriefingIn(_Strict):
    """The results page's call to book an executive briefing (nextSteps.briefingCta), and the
    thresholds of the rule that offers it."""

    title: Annotated[Text, _most(Scorecard, "briefing_title")]
    description: Text
    button_text: Annotated[Text, _most(Scorecard, "briefing_button_text")]
    url: Annotated[Url, _most(Scorecard, "briefing_url")]
    total_below: Annotated[int, Field(ge=0, le=101)]
    """Offered when the total is below this (80: not a champion) …"""
    section_below: Annotated[int, Field(ge=0, le=101)]
    """… or any section's score is below this."""
    fa: "BriefingTexts" = TRANSLATION


class BandIn(_Strict):
    """A category of the total (the contract's scoreCategory), from its min_score up."""

    key: BandKey
    name: Annotated[Text, _most(ScoreBand, "name")]
    min_score: Score
    description: Text
    """The results' categoryDescription."""
    fa: "BandTexts" = TRANSLATION


class ChoiceIn(_Strict):
    """An answer the visitor may choose, and what it earns."""

    letter: Letter
    text: Text
    points: Annotated[int, Field(ge=0, le=MAX_CHOICE_POINTS)]
    fa: "ChoiceTexts" = TRANSLATION


class QuestionIn(_Strict):
    """A question of a step, with its five answers."""

    id: Annotated[str, Field(pattern=r"^[a-z_]+_[1-9][0-9]*$")]
    """The section's key and the question's number from 1: value_assurance_1, …"""
    text: Text
    choices: Annotated[list[ChoiceIn], Field(min_length=len(LETTERS), max_length=len(LETTERS))]
    fa: "QuestionTexts" = TRANSLATION

    @field_validator("choices", mode="before")
    @classmethod
    def _five_letters(cls, choices: Any) -> Any:
        letters = ", ".join(LETTERS)
        if not isinstance(choices, list):
            raise _refuse(
                f"field 'choices' must be a list of five answers with the letters {letters} in "
                f"that order; got {choices!r}."
            )
        given = [choice.get("letter") if isinstance(choice, dict) else None for choice in choices]
        if given != list(LETTERS):
            raise _refuse(
                f"field 'choices' must be five answers with the letters {letters} in that "
                f"order; got {given}."
            )
        return choices

    @field_validator("choices")
    @classmethod
    def _from_0(cls, choices: list[ChoiceIn]) -> list[ChoiceIn]:
        points = [choice.points for choice in choices]
        if min(points) != 0 or max(points) == 0:
            raise _refuse(
                "one answer must be worth 0 points and one more than 0, so that the section "
                f"can score from 0 to 100; got {points}."
            )
        return choices


class SectionIn(_Strict):
    """One of the contract's four steps: its questions, and its weight in the total."""

    key: SectionKey
    api_key: SectionApiKey
    """The section's key in the results' scoreBreakdown (valueAssurance for value_assurance)."""
    name: Annotated[Text, _most(Section, "name")]
    weight: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False), _rule(_in_thousandths)]
    """A fraction, with at most 3 decimals: 0.35 for 35 %."""
    description: MaybeEmpty
    questions: Annotated[list[QuestionIn], Field(min_length=1)]
    fa: "SectionTexts" = TRANSLATION

    @field_validator("api_key")
    @classmethod
    def _of_its_key(cls, api_key: str, info: ValidationInfo) -> str:
        if api_key != SECTION_API_KEYS.get(info.data.get("key", "")):
            raise _refuse()
        return api_key

    @field_validator("questions")
    @classmethod
    def _numbered(cls, questions: list[QuestionIn], info: ValidationInfo) -> list[QuestionIn]:
        for n, question in enumerate(questions):
            if question.id != f"{info.data.get('key')}_{n + 1}":
                raise _refuse(at=(n, "id"))
        return questions


class RuleIn(_Strict):
    """A recommendation, shown when its section's score lies in [min_score, max_score]."""

    section: SectionKey
    min_score: Score
    max_score: Score
    priority: Priority
    title: Annotated[Text, _most(Recommendation, "title")]
    description: Text
    action_items: Annotated[list[Text], Field(min_length=1)]
    estimated_impact: Annotated[Text, _most(Recommendation, "estimated_impact")]
    time_to_implement: Annotated[Text, _most(Recommendation, "time_to_implement")]
    fa: "RuleTexts" = TRANSLATION

    @field_validator("max_score")
    @classmethod
    def _not_below_min(cls, high: int, info: ValidationInfo) -> int:
        low = info.data.get("min_score", high)
        if low > high:
            raise _refuse(f"min_score {low} is above max_score {high}.")
        return high


class ResourceIn(_Strict):
    """A guide, template or checklist offered with the results (nextSteps.resources)."""

    title: Annotated[Text, _most(Resource, "title")]
    description: Text
    url: Annotated[Url, _most(Resource, "url")]
    type: ResourceType
    fa: "ResourceTexts" = TRANSLATION


class ScorecardFile(_Strict):
    """A scorecard version with all its content: a portal-scorecard/1 file."""

    format: Literal["portal-scorecard/1"]
    version: Annotated[
        str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$"), _most(Scorecard, "version")
    ]
    """Unique: a file makes a new version, it never changes one already loaded."""
    title: Annotated[Text, _most(Scorecard, "title")]
    description: MaybeEmpty
    fa: "ScorecardTexts" = TRANSLATION
    briefing: BriefingIn
    bands: Annotated[
        list[BandIn], Field(min_length=1, json_schema_extra={"minItems": 5, "maxItems": 5})
    ]
    """The five categories, from the highest min_score to the lowest, which is 0."""
    sections: Annotated[
        list[SectionIn], Field(min_length=1, json_schema_extra={"minItems": 4, "maxItems": 4})
    ]
    """The contract's four steps, in its order; their weights add up to 1."""
    recommendations: Annotated[list[RuleIn], Field(min_length=1)]
    resources: list[ResourceIn]

    @field_validator("bands")
    @classmethod
    def _categories(cls, bands: list[BandIn]) -> list[BandIn]:
        if problem := _band_keys_problem([band.key for band in bands]):
            raise _refuse(problem, place="Bands")
        scores = [band.min_score for band in bands]
        if any(low <= high for low, high in zip(scores, scores[1:], strict=False)):
            raise _refuse(
                "list them from the highest min_score to the lowest, each strictly lower than "
                f"the one before; got {scores}.",
                place="Bands",
            )
        if scores[-1] != 0:
            raise _refuse(
                "the lowest band must start at 0 so that every total has a category; it "
                f"starts at {scores[-1]}.",
                place="Bands",
            )
        return bands

    @field_validator("sections", mode="before")
    @classmethod
    def _the_four_steps(cls, sections: Any) -> Any:
        # Before the sections themselves: they are named by their keys.
        if isinstance(sections, list) and sections:
            keys = [
                section.get("key") if isinstance(section, dict) else None for section in sections
            ]
            if keys != list(SECTION_KEYS):
                raise _refuse(
                    f"the contract's four steps are {', '.join(SECTION_KEYS)}, in that order; "
                    f"got {', '.join(map(repr, keys))}.",
                    place="Sections",
                )
        return sections

    @field_validator("sections")
    @classmethod
    def _weighed(cls, sections: list[SectionIn]) -> list[SectionIn]:
        total = sum(Decimal(str(section.weight)) for section in sections)
        if total != 1:
            raise _refuse(
                f"the weights must add up to 1, they add up to {total}.", place="Sections"
            )
        return sections


def _band_keys_problem(keys: list[Any]) -> str | None:
    if sorted(keys, key=str) == sorted(BAND_KEYS):
        return None
    return (
        f"the keys must be exactly {', '.join(BAND_KEYS)} (the contract's scoreCategory "
        f"values), each once; got {', '.join(map(repr, keys))}."
    )


def _texts(model: type[BaseModel], kind: str) -> Any:
    """The model of `model`'s `fa`: its translated fields, declared as the English ones."""
    fields = {
        name: (model.model_fields[name].annotation, model.model_fields[name])
        for name in TRANSLATED_FIELDS[kind]
    }
    name = model.__name__.removesuffix("In").removesuffix("File") + "Texts"
    # mypy matches **fields against create_model's own keywords too; they are only fields.
    return create_model(  # type: ignore[call-overload]
        name, __base__=_Strict, __doc__=f"The {kind}'s texts in Persian.", **fields
    )


if TYPE_CHECKING:
    # Built from the models above at run time; a type checker only knows they are models.
    type ScorecardTexts = _Strict
    type BriefingTexts = _Strict
    type BandTexts = _Strict
    type SectionTexts = _Strict
    type QuestionTexts = _Strict
    type ChoiceTexts = _Strict
    type RuleTexts = _Strict
    type ResourceTexts = _Strict
else:
    ScorecardTexts = _texts(ScorecardFile, "document")
    BriefingTexts = _texts(BriefingIn, "briefing")
    BandTexts = _texts(BandIn, "band")
    SectionTexts = _texts(SectionIn, "section")
    QuestionTexts = _texts(QuestionIn, "question")
    ChoiceTexts = _texts(ChoiceIn, "choice")
    RuleTexts = _texts(RuleIn, "rule")
    ResourceTexts = _texts(ResourceIn, "resource")
for _model in _Strict.__subclasses__():  # now that the fa models exist
    _model.model_rebuild()


# ---------------------------------------------------------------------------------------------
# The formatter: the first problem of a ValidationError, in the format's words


def _model_of(model: type[BaseModel] | None, name: Any) -> type[BaseModel] | None:
    """The model of field `name`'s object, or of its items; None for any other field."""
    info = model.model_fields.get(name) if model and isinstance(name, str) else None
    if info is None:
        return None
    for kind in (info.annotation, *get_args(info.annotation)):
        if inspect.isclass(kind) and issubclass(kind, BaseModel):
            return kind
    return None


@dataclass(frozen=True)
class _Place:
    where: str  # "Scorecard", "Briefing", "Question governance_1, answer E, 'fa'", …
    model: type[BaseModel]  # what declares the object there
    node: Any  # the object as the file has it
    rest: tuple[str | int, ...]  # the place in the object: (field, …), or () for itself
    qid: str = ""  # the id the question there must have


def _place(data: Any, loc: tuple[str | int, ...], kind: str) -> _Place:
    model: type[BaseModel]
    where, model, node, qid, i = "Scorecard", ScorecardFile, data, "", 0
    while (inner := _model_of(model, loc[i] if i < len(loc) else None)) is not None:
        name = cast(str, loc[i])  # a field's name: _model_of found the model of its object
        if kind == "missing" and i == len(loc) - 1:
            break  # the field itself is the problem
        if name in {"briefing", "fa"}:
            where = "Briefing" if name == "briefing" else f"{where}, {name!r}"
            node, i = node[name], i + 1
        elif i + 1 < len(loc) and isinstance(number := loc[i + 1], int):
            item, rest = node[name][number], loc[i + 2 :]
            if name == "sections":
                where = f"Section {item['key']!r}"
            elif name == "questions":
                qid = f"{node['key']}_{number + 1}"
                # A question is named by its id once its id can be trusted.
                itself = rest in {(), ("id",)} or (
                    len(rest) == 1 and kind in {"missing", "extra_forbidden"}
                )
                where = f"{where}, question {number + 1}" if itself else f"Question {qid}"
            elif name == "choices":
                where = f"{where}, answer {LETTERS[number]}"
            else:
                label = {"bands": "Band", "recommendations": "Recommendation"}.get(name, "Resource")
                where = f"{label} {number + 1}"
            node, i = item, i + 2
        else:
            break  # the list itself
        model = inner
    return _Place(where, model, node, loc[i:], qid)


def _first(errors: list[Any]) -> Any:
    """The problem a reader of the file meets first. pydantic lists them in the file's order,
    an object's unknown fields after its fields; a reader sees the format first, and in each
    object its unknown fields, then its missing ones, then what its fields hold."""

    def rank(n: int) -> tuple:
        loc, kind = _loc(errors[n]), errors[n]["type"]
        if loc == ("format",):
            return (-1,)
        if kind not in {"extra_forbidden", "missing"}:
            return (n, 2)
        # Before the first problem in the same object.
        start = next(m for m, other in enumerate(errors) if _loc(other)[: len(loc) - 1] == loc[:-1])
        return (start, kind == "missing", n)

    return errors[min(range(len(errors)), key=rank)]


def _loc(error: Mapping[str, Any]) -> tuple[str | int, ...]:
    return tuple(error["loc"]) + tuple(error.get("ctx", {}).get("at", ()))


def first_problem(error: ValidationError, data: Any) -> str:
    """The problem of `error` (`data` validated as ScorecardFile) that the file shows first, in
    the format's words: the place, the field and what is wrong with it."""
    errors = error.errors(include_url=False)
    first = _first(errors)
    loc, kind, context = _loc(first), first["type"], first.get("ctx", {})
    place = _place(data, loc, kind)
    if kind == "scorecard_rule" and context["message"]:
        return f"{context['place'] or place.where}: {context['message']}"
    if place.model is ScorecardFile and place.rest[:1] == ("format",):
        return wrong_format(FORMAT, data.get("format"), "scorecard file")
    problem = object_problem(errors, loc, kind, place.where, place.rest)
    if problem is not None:
        return problem
    name = str(place.rest[0])
    if place.model is BandIn and name == "key":
        keys = [band.get("key") if isinstance(band, dict) else None for band in data["bands"]]
        return f"Bands: {_band_keys_problem(keys)}"
    return f"{place.where}: {_field_problem(name, place)}"


# What a field must be where its type does not say it all (a refusal adds what it got).
MUST = {
    "version": "must use letters, digits, '.', '_' and '-'",
    "url": "must be an http(s) URL",
    "weight": (
        f"must be a fraction above 0 and at most 1, with at most {WEIGHT_PLACES} decimals "
        "(0.35 for 35 %)"
    ),
}


def _field_problem(name: str, place: _Place) -> str:
    """What is wrong with field `name` of the object at `place`, worded by its declaration."""
    value = place.node.get(name)
    info = place.model.model_fields[name]
    kind = info.annotation
    if name == "api_key":
        expected = SECTION_API_KEYS.get(place.node.get("key"))
        return f"field 'api_key' must be {expected!r}, got {value!r}."
    if name == "id":
        return (
            f"field 'id' must be {place.qid!r} (section key, then the question's number), got "
            f"{value!r}."
        )
    if name == "action_items" and len(place.rest) > 1:
        return "every action item must be a non-empty string."
    if name in MUST:
        text = None if name == "weight" else _text_problem(name, value, info, may_be_empty=False)
        return text or f"field {name!r} {MUST[name]}, got {value!r}."
    if get_origin(kind) is Literal:
        return f"field {name!r} must be one of {', '.join(get_args(kind))}, got {value!r}."
    if kind is int:
        low = next(m.ge for m in info.metadata if isinstance(m, Ge))
        high = next(m.le for m in info.metadata if isinstance(m, Le))
        return f"field {name!r} must be a whole number from {low} to {high}, got {value!r}."
    if get_origin(kind) is list:
        least = next((m.min_length for m in info.metadata if isinstance(m, MinLen)), 0)
        return f"field {name!r} must be a list of at least {least}."
    return _text_problem(name, value, info) or f"field {name!r} is not valid."


def _text_problem(
    name: str, value: Any, info: Any, *, may_be_empty: bool | None = None
) -> str | None:
    if may_be_empty is None:  # unless the field is declared NotBlank
        may_be_empty = NOT_BLANK not in info.metadata
    if not isinstance(value, str) or (not may_be_empty and is_blank(value)):
        return f"field {name!r} must be {'a string' if may_be_empty else 'a non-empty string'}."
    most = next((m.max_length for m in info.metadata if isinstance(m, MaxLen)), None)
    if most is not None and len(value) > most:
        return f"field {name!r} is {len(value)} characters long; the most is {most}."
    return None
