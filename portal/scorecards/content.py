"""Scorecard content as portable JSON ("portal-scorecard/1"): load a new version, export one.

The format is declared in portal/scorecards/format.py and documented field by field in
docs/scorecard.md. Loading validates the whole document before writing anything, and writes it
in one transaction: all or nothing.
"""

from decimal import Decimal
from typing import Any, cast

from django.db import transaction
from django.db.models import Model, Prefetch
from pydantic import BaseModel, ValidationError

from portal.db import column_length
from portal.jsonformat import FormatError
from portal.scorecards.format import (
    FORMAT,
    TRANSLATED_FIELDS,
    BandIn,
    BriefingIn,
    ChoiceIn,
    QuestionIn,
    ResourceIn,
    RuleIn,
    ScorecardFile,
    SectionIn,
    first_problem,
)
from portal.scorecards.models import (
    Choice,
    Question,
    Recommendation,
    Resource,
    ScoreBand,
    Scorecard,
    Section,
)

# Content is written in English; any object may also carry its texts in these languages (its
# optional `fa` object in a file, its `translations` in the database), which the visitor's
# pages show in that language. A text with no translation is shown in English.
TRANSLATIONS = ("fa",)


def stored_texts(obj: Any, language: str) -> dict[str, Any]:
    """`obj`'s texts in `language` as stored ({field: text}; empty when it has none)."""
    return (getattr(obj, "translations", None) or {}).get(language) or {}


def translated(obj: Any, field: str, language: str) -> Any:
    """`obj`'s `field` (a model attribute) in `language` when the content has it, else as
    written."""
    if language in TRANSLATIONS:
        texts = stored_texts(obj, language)
        if texts.get(field):
            return texts[field]
    return getattr(obj, field)


# A file's `fa` object of each kind of object holds TRANSLATED_FIELDS[kind] (format.py), stored
# under the row's field of that name: a document's and its briefing's under the Scorecard's,
# the briefing's as `briefing_<field>`.
BRIEFING_PREFIX = "briefing_"
# The kinds of file object each model stores, with the prefix of their fields.
STORED_KINDS: dict[type[Model], tuple[tuple[str, str], ...]] = {
    Scorecard: (("document", ""), ("briefing", BRIEFING_PREFIX)),
    ScoreBand: (("band", ""),),
    Section: (("section", ""),),
    Question: (("question", ""),),
    Choice: (("choice", ""),),
    Recommendation: (("rule", ""),),
    Resource: (("resource", ""),),
}


def translated_fields(model: type[Model]) -> tuple[str, ...]:
    """The fields of `model` that may have a text in each of TRANSLATIONS (the editors' list)."""
    return tuple(
        prefix + name for kind, prefix in STORED_KINDS[model] for name in TRANSLATED_FIELDS[kind]
    )


class ScorecardFormatError(FormatError):
    """The JSON is not a valid portal-scorecard/1 document, or its version exists already."""


# ---------------------------------------------------------------------------------------------
# Export


def _weight(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _as_file(row: Any, model: type[BaseModel], prefix: str = "", **given: Any) -> dict:
    """`row` as the file object `model` declares, its fields in their declared order: each the
    row's field of that name (`given` where the row holds it otherwise), and its translations
    when it has some."""
    item = {}
    for name, info in model.model_fields.items():
        if name in TRANSLATIONS:
            stored = stored_texts(row, name)
            # A translation field is declared with the model of its texts.
            translation = cast(type[BaseModel], info.annotation)
            texts = {
                f: stored[prefix + f] for f in translation.model_fields if prefix + f in stored
            }
            if texts:
                item[name] = texts
        else:
            item[name] = given[name] if name in given else getattr(row, prefix + name)
    return item


def _stored(item: BaseModel, prefix: str = "") -> dict:
    """A file object's translations as its model stores them (what _exported reads)."""
    return {
        language: {prefix + name: text for name, text in texts.model_dump().items()}
        for language in TRANSLATIONS
        if (texts := getattr(item, language)) is not None
    }


def export_scorecard(scorecard: Scorecard) -> dict:
    """The scorecard version and all its content, in step and position order."""
    sections = scorecard.sections.order_by("step").prefetch_related(
        Prefetch(
            "questions",
            Question.objects.order_by("position", "id").prefetch_related(
                Prefetch("choices", Choice.objects.order_by("letter"))
            ),
        )
    )
    rules = scorecard.recommendations.order_by("position", "id").select_related("section")
    return _as_file(
        scorecard,
        ScorecardFile,
        format=FORMAT,
        briefing=_as_file(scorecard, BriefingIn, BRIEFING_PREFIX),
        bands=[_as_file(band, BandIn) for band in scorecard.bands.order_by("-min_score")],
        sections=[
            _as_file(
                section,
                SectionIn,
                weight=_weight(section.weight),
                questions=[
                    _as_file(
                        question,
                        QuestionIn,
                        id=question.qid,
                        choices=[_as_file(choice, ChoiceIn) for choice in question.choices.all()],
                    )
                    for question in section.questions.all()
                ],
            )
            for section in sections
        ],
        recommendations=[_as_file(rule, RuleIn, section=rule.section.key) for rule in rules],
        resources=[
            _as_file(resource, ResourceIn)
            for resource in scorecard.resources.order_by("position", "id")
        ],
    )


def validate(data: Any) -> ScorecardFile:
    """The whole document checked against the format (portal/scorecards/format.py) before
    anything is written; ScorecardFormatError names the first problem and its place."""
    try:
        return ScorecardFile.model_validate(data)
    except ValidationError as error:
        raise ScorecardFormatError(first_problem(error, data)) from None


# ---------------------------------------------------------------------------------------------
# The rules for stored content: every way of changing a version (a file, the admin, a console
# editor) ends in the same two checks.


def validate_scorecard(scorecard: Scorecard) -> None:
    """Check a stored version against the format's rules, exactly as a file is checked: the
    version is exported and validated. Raises ScorecardFormatError naming the first problem."""
    validate(export_scorecard(scorecard))


def is_editable(scorecard: Scorecard) -> bool:
    """A version nobody has taken yet. Once a visit exists, its questions, answers and rules
    are part of that visit's record: staff edit a copy (scorecard_copy) instead."""
    return not scorecard.visits.exists()


def ensure_editable(scorecard: Scorecard) -> None:
    if not is_editable(scorecard):
        raise ScorecardFormatError(
            f"Scorecard version {scorecard.version!r} has visits, so it cannot be changed: "
            "copy it as a new version, edit the copy and make it the active one."
        )


def check_edited_scorecard(scorecard: Scorecard) -> None:
    """After an edit, in its transaction: refuse (ScorecardFormatError) a version that has
    visits or whose content no longer follows the format's rules. The caller rolls back."""
    ensure_editable(scorecard)
    validate_scorecard(scorecard)


def free_version(base: str) -> str:
    """`base`-copy, or -copy2, -copy3, ...: the first version string not taken yet."""
    longest = column_length(Scorecard, "version")
    for number in range(1, 1000):
        suffix = "-copy" if number == 1 else f"-copy{number}"
        candidate = base[: longest - len(suffix)] + suffix
        if not Scorecard.objects.filter(version=candidate).exists():
            return candidate
    raise ScorecardFormatError(f"No free version name for a copy of {base!r}.")


def scorecard_copy(*, scorecard: Scorecard, version: str | None = None) -> Scorecard:
    """A new, inactive version with all of `scorecard`'s content, to edit in place of a version
    that has visits. `version` defaults to the first free "<version>-copy…" name."""
    data = export_scorecard(scorecard)
    data["version"] = version or free_version(scorecard.version)
    return load_scorecard(data, activate=False)


# ---------------------------------------------------------------------------------------------
# Loading


def _merged(*translations: dict) -> dict:
    """Translations of one row from several file objects (a document and its briefing)."""
    merged: dict[str, dict] = {}
    for each in translations:
        for language, texts in each.items():
            merged.setdefault(language, {}).update(texts)
    return merged


def load_scorecard(data: Any, *, activate: bool = True) -> Scorecard:
    """Create a new scorecard version from a portal-scorecard/1 document (or one already
    validated), all or nothing.

    A version string already in the database is refused: a file never changes a loaded version
    (staff edit one without visits in the admin, or a copy). With `activate`, the new version
    becomes the active one.
    """
    document = data if isinstance(data, ScorecardFile) else validate(data)
    with transaction.atomic():
        if Scorecard.objects.filter(version=document.version).exists():
            raise ScorecardFormatError(
                f"Scorecard version {document.version!r} already exists; give the file a new "
                "version to load it."
            )
        if activate:
            Scorecard.objects.filter(is_active=True).update(is_active=False)
        briefing = document.briefing
        scorecard = Scorecard.objects.create(
            version=document.version,
            title=document.title,
            description=document.description,
            is_active=activate,
            **{BRIEFING_PREFIX + name: value for name, value in _fields(briefing).items()},
            translations=_merged(_stored(document), _stored(briefing, BRIEFING_PREFIX)),
        )
        ScoreBand.objects.bulk_create(
            ScoreBand(scorecard=scorecard, translations=_stored(band), **_fields(band))
            for band in document.bands
        )
        sections = {}
        choices = []
        for step, item in enumerate(document.sections):
            section = Section.objects.create(
                scorecard=scorecard,
                step=step,
                weight=Decimal(str(item.weight)),
                translations=_stored(item),
                **_fields(item, "weight", "questions"),
            )
            sections[section.key] = section
            questions = Question.objects.bulk_create(
                Question(
                    section=section,
                    qid=q.id,
                    position=position,
                    text=q.text,
                    translations=_stored(q),
                )
                for position, q in enumerate(item.questions, start=1)
            )
            for question, q in zip(questions, item.questions, strict=True):
                choices += [
                    Choice(question=question, translations=_stored(c), **_fields(c))
                    for c in q.choices
                ]
        Choice.objects.bulk_create(choices)
        Recommendation.objects.bulk_create(
            Recommendation(
                scorecard=scorecard,
                section=sections[rule.section],
                position=position,
                translations=_stored(rule),
                **_fields(rule, "section"),
            )
            for position, rule in enumerate(document.recommendations, start=1)
        )
        Resource.objects.bulk_create(
            Resource(
                scorecard=scorecard,
                position=position,
                translations=_stored(resource),
                **_fields(resource),
            )
            for position, resource in enumerate(document.resources, start=1)
        )
    return scorecard


def _fields(item: BaseModel, *leave_out: str) -> dict:
    """A file object's own fields, named as its model's (its translations aside)."""
    return item.model_dump(exclude={*TRANSLATIONS, *leave_out})
