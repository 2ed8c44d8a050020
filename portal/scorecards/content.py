"""Scorecard content as portable JSON ("portal-scorecard/1"): load a new version, export one.

The format is documented field by field in docs/scorecard.md. Loading validates the whole
document before writing anything, and writes it in one transaction: all or nothing.
"""

import math
import re
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Prefetch

from portal.jsonformat import FormatError
from portal.scorecards.models import (
    BAND_KEYS,
    LETTERS,
    MAX_CHOICE_POINTS,
    SECTION_API_KEYS,
    Choice,
    Question,
    Recommendation,
    Resource,
    ScoreBand,
    Scorecard,
    Section,
)

FORMAT = "portal-scorecard/1"
VERSION_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
PRIORITIES = [p.value for p in Recommendation.Priority]
RESOURCE_TYPES = [t.value for t in Resource.Type]
WEIGHT_PLACES = 3

DOCUMENT_FIELDS = (
    "format",
    "version",
    "title",
    "description",
    "briefing",
    "bands",
    "sections",
    "recommendations",
    "resources",
)
BRIEFING_FIELDS = ("title", "description", "button_text", "url", "total_below", "section_below")
BAND_FIELDS = ("key", "name", "min_score", "description")
SECTION_FIELDS = ("key", "api_key", "name", "weight", "description", "questions")
QUESTION_FIELDS = ("id", "text", "choices")
CHOICE_FIELDS = ("letter", "text", "points")
RULE_FIELDS = (
    "section",
    "min_score",
    "max_score",
    "priority",
    "title",
    "description",
    "action_items",
    "estimated_impact",
    "time_to_implement",
)
RESOURCE_FIELDS = ("title", "description", "url", "type")

# Content is written in English; any object may also carry its texts in these languages (its
# optional `fa` object in a file, its `translations` in the database), which the visitor's
# pages show in that language. A text with no translation is shown in English.
TRANSLATIONS = ("fa",)


def translated(obj: Any, field: str, language: str) -> Any:
    """`obj`'s `field` (a model attribute) in `language` when the content has it, else as
    written."""
    if language in TRANSLATIONS:
        texts = (getattr(obj, "translations", None) or {}).get(language) or {}
        if texts.get(field):
            return texts[field]
    return getattr(obj, field)


# What a file's `fa` object of each kind of object holds (all of these fields, like the English
# ones; the same may be empty), and the model field each is stored under: a document's and its
# briefing's under the Scorecard's, the briefing's as `briefing_<field>`.
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
MAY_BE_EMPTY = {("document", "description"), ("section", "description")}
BRIEFING_PREFIX = "briefing_"


class ScorecardFormatError(FormatError):
    """The JSON is not a valid portal-scorecard/1 document, or its version exists already."""


# ---------------------------------------------------------------------------------------------
# Export


def _weight(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _exported(obj: Any, kind: str, prefix: str = "") -> dict:
    """`obj`'s translations as a file writes them: {"fa": {field: text}}, or nothing."""
    exported = {}
    for language in TRANSLATIONS:
        stored = (obj.translations or {}).get(language) or {}
        texts = {
            name: stored[prefix + name]
            for name in TRANSLATED_FIELDS[kind]
            if prefix + name in stored
        }
        if texts:
            exported[language] = texts
    return exported


def _stored(item: dict, kind: str, prefix: str = "") -> dict:
    """A file object's translations as its model stores them (what _exported reads)."""
    return {
        language: {prefix + name: item[language][name] for name in TRANSLATED_FIELDS[kind]}
        for language in TRANSLATIONS
        if language in item
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
    return {
        "format": FORMAT,
        "version": scorecard.version,
        "title": scorecard.title,
        "description": scorecard.description,
        **_exported(scorecard, "document"),
        "briefing": {
            "title": scorecard.briefing_title,
            "description": scorecard.briefing_description,
            "button_text": scorecard.briefing_button_text,
            "url": scorecard.briefing_url,
            "total_below": scorecard.briefing_total_below,
            "section_below": scorecard.briefing_section_below,
            **_exported(scorecard, "briefing", BRIEFING_PREFIX),
        },
        "bands": [
            {
                "key": b.key,
                "name": b.name,
                "min_score": b.min_score,
                "description": b.description,
                **_exported(b, "band"),
            }
            for b in scorecard.bands.order_by("-min_score")
        ],
        "sections": [
            {
                "key": section.key,
                "api_key": section.api_key,
                "name": section.name,
                "weight": _weight(section.weight),
                "description": section.description,
                "questions": [
                    {
                        "id": question.qid,
                        "text": question.text,
                        "choices": [
                            {
                                "letter": c.letter,
                                "text": c.text,
                                "points": c.points,
                                **_exported(c, "choice"),
                            }
                            for c in question.choices.all()
                        ],
                        **_exported(question, "question"),
                    }
                    for question in section.questions.all()
                ],
                **_exported(section, "section"),
            }
            for section in sections
        ],
        "recommendations": [
            {
                "section": rule.section.key,
                "min_score": rule.min_score,
                "max_score": rule.max_score,
                "priority": rule.priority,
                "title": rule.title,
                "description": rule.description,
                "action_items": list(rule.action_items),
                "estimated_impact": rule.estimated_impact,
                "time_to_implement": rule.time_to_implement,
                **_exported(rule, "rule"),
            }
            for rule in rules
        ],
        "resources": [
            {
                "title": r.title,
                "description": r.description,
                "url": r.url,
                "type": r.type,
                **_exported(r, "resource"),
            }
            for r in scorecard.resources.order_by("position", "id")
        ],
    }


# ---------------------------------------------------------------------------------------------
# Validation helpers: each raises ScorecardFormatError naming where the problem is


def _object(
    obj: Any, names: tuple[str, ...], where: str, *, optional: tuple[str, ...] = ()
) -> dict:
    """obj is a JSON object with exactly these fields (all required; text may be empty), and
    perhaps some of the `optional` ones."""
    if not isinstance(obj, dict):
        raise ScorecardFormatError(f"{where} must be a JSON object.")
    unknown = sorted(set(obj) - set(names) - set(optional))
    if unknown:
        raise ScorecardFormatError(f"{where}: unknown field {', '.join(map(repr, unknown))}.")
    missing = [name for name in names if name not in obj]
    if missing:
        raise ScorecardFormatError(f"{where}: field {missing[0]!r} is missing.")
    return obj


def _text(obj: dict, name: str, where: str, *, model=None, blank: bool = False) -> str:
    value = obj[name]
    if not isinstance(value, str) or (not blank and not value.strip()):
        kind = "a string" if blank else "a non-empty string"
        raise ScorecardFormatError(f"{where}: field {name!r} must be {kind}.")
    if "\x00" in value:  # PostgreSQL cannot store it; SQLite would, silently
        raise ScorecardFormatError(f"{where}: field {name!r} contains a NUL character.")
    max_length = model._meta.get_field(name).max_length if model else None
    if max_length and len(value) > max_length:
        raise ScorecardFormatError(
            f"{where}: field {name!r} is {len(value)} characters long; the most is {max_length}."
        )
    return value


def _int(obj: dict, name: str, where: str, low: int, high: int) -> int:
    value = obj[name]
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ScorecardFormatError(
            f"{where}: field {name!r} must be a whole number from {low} to {high}, got {value!r}."
        )
    return value


def _url(obj: dict, name: str, where: str) -> str:
    value = _text(obj, name, where)
    try:
        URLValidator(schemes=["https", "http"])(value)
    except ValidationError:
        raise ScorecardFormatError(
            f"{where}: field {name!r} must be an http(s) URL, got {value!r}."
        ) from None
    return value


def _list(obj: dict, name: str, where: str, minimum: int = 1) -> list:
    value = obj[name]
    if not isinstance(value, list) or len(value) < minimum:
        raise ScorecardFormatError(f"{where}: field {name!r} must be a list of at least {minimum}.")
    return value


def _translations(obj: dict, kind: str, where: str, model=None) -> None:
    """Check `obj`'s optional translations (its `fa` object): every translated field of its
    kind, each as its English one must be (text, length; action items a list of texts)."""
    for language in TRANSLATIONS:
        if language not in obj:
            continue
        at = f"{where}, {language!r}"
        texts = _object(obj[language], TRANSLATED_FIELDS[kind], at)
        for name in TRANSLATED_FIELDS[kind]:
            if name == "action_items":
                _action_items(texts, at)
            else:
                _text(texts, name, at, model=model, blank=(kind, name) in MAY_BE_EMPTY)


def _action_items(rule: dict, at: str) -> None:
    items = _list(rule, "action_items", at)
    if not all(isinstance(item, str) and item.strip() and "\x00" not in item for item in items):
        raise ScorecardFormatError(f"{at}: every action item must be a non-empty string.")


# ---------------------------------------------------------------------------------------------
# Validation


def validate(data: Any) -> dict:
    """Check the whole document; return it unchanged, or raise at the first problem."""
    if not isinstance(data, dict):
        raise ScorecardFormatError("The document must be a JSON object.")
    if data.get("format") != FORMAT:
        raise ScorecardFormatError(
            f"Field 'format' must be {FORMAT!r}, got {data.get('format')!r}; "
            "this is not a scorecard file, or a version this portal cannot read."
        )
    where = "Scorecard"
    _object(data, DOCUMENT_FIELDS, where, optional=TRANSLATIONS)
    version = _text(data, "version", where, model=Scorecard)
    if not VERSION_PATTERN.fullmatch(version):
        raise ScorecardFormatError(
            f"{where}: field 'version' must use letters, digits, '.', '_' and '-', got {version!r}."
        )
    _text(data, "title", where, model=Scorecard)
    _text(data, "description", where, blank=True)
    _translations(data, "document", where, Scorecard)

    briefing = _object(data["briefing"], BRIEFING_FIELDS, "Briefing", optional=TRANSLATIONS)
    _translations(briefing, "briefing", "Briefing")
    _text(briefing, "title", "Briefing")
    _text(briefing, "description", "Briefing")
    _text(briefing, "button_text", "Briefing")
    _url(briefing, "url", "Briefing")
    _int(briefing, "total_below", "Briefing", 0, 101)
    _int(briefing, "section_below", "Briefing", 0, 101)

    _validate_bands(_list(data, "bands", where))
    keys = _validate_sections(_list(data, "sections", where))
    for number, rule in enumerate(_list(data, "recommendations", where), start=1):
        _validate_rule(rule, f"Recommendation {number}", keys)
    for number, resource in enumerate(_list(data, "resources", where, minimum=0), start=1):
        at = f"Resource {number}"
        _object(resource, RESOURCE_FIELDS, at, optional=TRANSLATIONS)
        _text(resource, "title", at, model=Resource)
        _text(resource, "description", at)
        _translations(resource, "resource", at, Resource)
        _url(resource, "url", at)
        if resource["type"] not in RESOURCE_TYPES:
            raise ScorecardFormatError(
                f"{at}: field 'type' must be one of {', '.join(RESOURCE_TYPES)}, "
                f"got {resource['type']!r}."
            )
    return data


def _validate_bands(bands: list) -> None:
    for number, band in enumerate(bands, start=1):
        at = f"Band {number}"
        _object(band, BAND_FIELDS, at, optional=TRANSLATIONS)
        _text(band, "name", at, model=ScoreBand)
        _text(band, "description", at)
        _translations(band, "band", at, ScoreBand)
        _int(band, "min_score", at, 0, 100)
    keys = [band["key"] for band in bands]
    if sorted(keys, key=str) != sorted(BAND_KEYS):
        raise ScorecardFormatError(
            f"Bands: the keys must be exactly {', '.join(BAND_KEYS)} (the contract's "
            f"scoreCategory values), each once; got {', '.join(map(repr, keys))}."
        )
    scores = [band["min_score"] for band in bands]
    if any(low <= high for low, high in zip(scores, scores[1:], strict=False)):
        raise ScorecardFormatError(
            "Bands: list them from the highest min_score to the lowest, each strictly lower "
            f"than the one before; got {scores}."
        )
    if scores[-1] != 0:
        raise ScorecardFormatError(
            f"Bands: the lowest band must start at 0 so that every total has a category; "
            f"it starts at {scores[-1]}."
        )


def _validate_sections(sections: list) -> list[str]:
    keys = [section.get("key") if isinstance(section, dict) else None for section in sections]
    if keys != list(SECTION_API_KEYS):
        raise ScorecardFormatError(
            f"Sections: the contract's four steps are {', '.join(SECTION_API_KEYS)}, in that "
            f"order; got {', '.join(map(repr, keys))}."
        )
    total = Decimal(0)
    for section in sections:
        at = f"Section {section['key']!r}"
        _object(section, SECTION_FIELDS, at, optional=TRANSLATIONS)
        if section["api_key"] != SECTION_API_KEYS[section["key"]]:
            raise ScorecardFormatError(
                f"{at}: field 'api_key' must be {SECTION_API_KEYS[section['key']]!r}, "
                f"got {section['api_key']!r}."
            )
        _text(section, "name", at, model=Section)
        _text(section, "description", at, blank=True)
        _translations(section, "section", at, Section)
        weight = section["weight"]
        if (
            isinstance(weight, bool)
            or not isinstance(weight, int | float)
            or not math.isfinite(weight)
            or not 0 < weight <= 1
            or Decimal(str(weight)).as_tuple().exponent < -WEIGHT_PLACES
        ):
            raise ScorecardFormatError(
                f"{at}: field 'weight' must be a fraction above 0 and at most 1, with at most "
                f"{WEIGHT_PLACES} decimals (0.35 for 35 %), got {weight!r}."
            )
        total += Decimal(str(weight))
        questions = _list(section, "questions", at)
        for number, question in enumerate(questions, start=1):
            _validate_question(question, section["key"], number, at)
    if total != 1:
        raise ScorecardFormatError(
            f"Sections: the weights must add up to 1, they add up to {total}."
        )
    return keys


def _validate_question(question: Any, key: str, number: int, where: str) -> None:
    expected = f"{key}_{number}"
    at = f"{where}, question {number}"
    _object(question, QUESTION_FIELDS, at, optional=TRANSLATIONS)
    if question["id"] != expected:
        raise ScorecardFormatError(
            f"{at}: field 'id' must be {expected!r} (section key, then the question's number), "
            f"got {question['id']!r}."
        )
    at = f"Question {expected}"
    _text(question, "text", at)
    _translations(question, "question", at)
    choices = question["choices"]
    if not isinstance(choices, list):
        raise ScorecardFormatError(
            f"{at}: field 'choices' must be a list of five answers with the letters "
            f"{', '.join(LETTERS)} in that order; got {choices!r}."
        )
    letters = [c.get("letter") if isinstance(c, dict) else None for c in choices]
    if letters != list(LETTERS):
        raise ScorecardFormatError(
            f"{at}: field 'choices' must be five answers with the letters "
            f"{', '.join(LETTERS)} in that order; got {letters}."
        )
    for choice in choices:
        where_choice = f"{at}, answer {choice['letter']}"
        _object(choice, CHOICE_FIELDS, where_choice, optional=TRANSLATIONS)
        _text(choice, "text", where_choice)
        _translations(choice, "choice", where_choice)
        _int(choice, "points", where_choice, 0, MAX_CHOICE_POINTS)
    points = [choice["points"] for choice in choices]
    if min(points) != 0 or max(points) == 0:
        raise ScorecardFormatError(
            f"{at}: one answer must be worth 0 points and one more than 0, so that the section "
            f"can score from 0 to 100; got {points}."
        )


def _validate_rule(rule: Any, at: str, keys: list[str]) -> None:
    _object(rule, RULE_FIELDS, at, optional=TRANSLATIONS)
    if rule["section"] not in keys:
        raise ScorecardFormatError(
            f"{at}: field 'section' must be one of {', '.join(keys)}, got {rule['section']!r}."
        )
    low = _int(rule, "min_score", at, 0, 100)
    high = _int(rule, "max_score", at, 0, 100)
    if low > high:
        raise ScorecardFormatError(f"{at}: min_score {low} is above max_score {high}.")
    if rule["priority"] not in PRIORITIES:
        raise ScorecardFormatError(
            f"{at}: field 'priority' must be one of {', '.join(PRIORITIES)}, "
            f"got {rule['priority']!r}."
        )
    _text(rule, "title", at, model=Recommendation)
    _text(rule, "description", at)
    _action_items(rule, at)
    _text(rule, "estimated_impact", at, model=Recommendation)
    _text(rule, "time_to_implement", at, model=Recommendation)
    _translations(rule, "rule", at, Recommendation)


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
    longest = Scorecard._meta.get_field("version").max_length
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
    """Create a new scorecard version from a portal-scorecard/1 document, all or nothing.

    A version string already in the database is refused: a file never changes a loaded version
    (staff edit one without visits in the admin, or a copy). With `activate`, the new version
    becomes the active one.
    """
    validate(data)
    with transaction.atomic():
        if Scorecard.objects.filter(version=data["version"]).exists():
            raise ScorecardFormatError(
                f"Scorecard version {data['version']!r} already exists; give the file a new "
                "version to load it."
            )
        if activate:
            Scorecard.objects.filter(is_active=True).update(is_active=False)
        briefing = data["briefing"]
        scorecard = Scorecard.objects.create(
            version=data["version"],
            title=data["title"],
            description=data["description"],
            is_active=activate,
            briefing_title=briefing["title"],
            briefing_description=briefing["description"],
            briefing_button_text=briefing["button_text"],
            briefing_url=briefing["url"],
            briefing_total_below=briefing["total_below"],
            briefing_section_below=briefing["section_below"],
            translations=_merged(
                _stored(data, "document"), _stored(briefing, "briefing", BRIEFING_PREFIX)
            ),
        )
        ScoreBand.objects.bulk_create(
            ScoreBand(
                scorecard=scorecard,
                translations=_stored(band, "band"),
                **{name: band[name] for name in BAND_FIELDS},
            )
            for band in data["bands"]
        )
        sections = {}
        choices = []
        for step, item in enumerate(data["sections"]):
            section = Section.objects.create(
                scorecard=scorecard,
                key=item["key"],
                api_key=item["api_key"],
                name=item["name"],
                weight=Decimal(str(item["weight"])),
                step=step,
                description=item["description"],
                translations=_stored(item, "section"),
            )
            sections[section.key] = section
            questions = Question.objects.bulk_create(
                Question(
                    section=section,
                    qid=q["id"],
                    position=position,
                    text=q["text"],
                    translations=_stored(q, "question"),
                )
                for position, q in enumerate(item["questions"], start=1)
            )
            for question, q in zip(questions, item["questions"], strict=True):
                choices += [
                    Choice(
                        question=question,
                        letter=c["letter"],
                        text=c["text"],
                        points=c["points"],
                        translations=_stored(c, "choice"),
                    )
                    for c in q["choices"]
                ]
        Choice.objects.bulk_create(choices)
        Recommendation.objects.bulk_create(
            Recommendation(
                scorecard=scorecard,
                section=sections[rule["section"]],
                position=position,
                translations=_stored(rule, "rule"),
                **{name: rule[name] for name in RULE_FIELDS if name != "section"},
            )
            for position, rule in enumerate(data["recommendations"], start=1)
        )
        Resource.objects.bulk_create(
            Resource(
                scorecard=scorecard,
                position=position,
                translations=_stored(resource, "resource"),
                **{name: resource[name] for name in RESOURCE_FIELDS},
            )
            for position, resource in enumerate(data["resources"], start=1)
        )
    return scorecard
