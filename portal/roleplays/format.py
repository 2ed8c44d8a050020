"""The roleplay cluster file format ("portal-cluster/1"), declared once as strict pydantic models.

The importer validates through `ClusterFile` (transfer.py, hence `import_cluster` and
`seed_demo`); the admin checks what it edits with the same rules (`*_fault` below);
schemas/roleplay-cluster.schema.json is generated from the models (`manage.py format_schemas`);
docs/roleplay-format.md describes the format for people.

pydantic reports every problem at once, but an import stops at the first, as it always has:
`first_problem()` picks the one a reader of the file meets first and words it as the format
always has, naming the place and the field, e.g. `Roleplay 2 ("Team Conflict"), stakeholder 1
("Maya Okafor"), turn 'maya_open', option 2: field 'marks' gives marks to 16pf competency
'16PF_E', which is measured by its Likert items only.`
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Self

from annotated_types import Ge, Le, MaxLen, MinLen
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.json_schema import JsonDict
from pydantic_core import PydanticCustomError

from portal.db import column_length
from portal.jsonformat import (
    INT_MAX,
    Language,
    NotBlank,
    Number,
    Plain,
    is_number,
    language_codes,
    object_problem,
    wrong_format,
)
from portal.roleplays.models import Cluster, Competency, Roleplay, Stakeholder, Turn
from portal.text import is_blank
from scoring.roleplays import LIKERT_MAX, LIKERT_MIN, STEN_MAX

FORMAT = "portal-cluster/1"
SJT, PF16 = Competency.Kind.SJT.value, Competency.Kind.PF16.value
Kind = Literal["sjt", "16pf"]  # Competency.Kind's values (a test keeps them the same)
# Ids travel in URLs, form fields and JWT claims, and codes are JSON keys of option marks:
# letters, digits and . _ - only, so none of them needs escaping anywhere.
ID_REGEX = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
ID_PATTERN = re.compile(ID_REGEX)
ID_RULE = "letters, digits, '.', '_' and '-', starting with a letter or digit"
# Paths of the candidate's pages that a roleplay id would collide with (/roleplay/<id>/).
RESERVED_ROLEPLAY_IDS = {"done"}
MAX_STAKEHOLDERS = 99  # results report them as a 2-digit string
NORM_CUTS = STEN_MAX - 1  # a 16PF norm table: the raw-score cut-offs of stens 2 to 10


def _refuse(message: str, at: tuple[str | int, ...] = ()) -> PydanticCustomError:
    """A broken rule of the format, said in its own words; `at` is the place below the object
    whose validator found it (e.g. ("stakeholders", 0, "turns", 2))."""
    return PydanticCustomError("cluster_rule", "{message}", {"message": message, "at": at})


# ---------------------------------------------------------------------------------------------
# Rules that the admin applies too (it edits one row at a time, in words of its own)


def max_score_fault(kind: Any, max_score: Any) -> Literal["missing", "positive", "sten"] | None:
    """An sjt competency is out of a number of marks greater than 0; a 16pf trait is a sten,
    out of 10 (which it may leave out)."""
    if kind == PF16:
        ok = max_score is None or (is_number(max_score) and max_score == STEN_MAX)
        return None if ok else "sten"
    if max_score is None:
        return "missing"
    return None if is_number(max_score) and max_score > 0 else "positive"


def norm_table_fault(table: Any, items: int | None) -> Literal["size", "order", "range"] | None:
    """A 16pf norm table is NORM_CUTS numbers in ascending order, within the raw scores its
    `items` Likert items can give (unchecked when `items` is None), or some stens could never
    be reached."""
    if not isinstance(table, list) or len(table) != NORM_CUTS or not all(map(is_number, table)):
        return "size"
    if any(low >= high for low, high in zip(table, table[1:], strict=False)):
        return "order"
    if items is not None and not (
        LIKERT_MIN * items <= table[0] and table[-1] < LIKERT_MAX * items
    ):
        return "range"
    return None


def mark_fault(
    code: str, value: Any, scales: Mapping[str, tuple[Any, Any]]
) -> Literal["unknown", "trait", "range"] | None:
    """Marks go to the roleplay's sjt competencies (`scales`: code → (kind, max_score)), each
    a number from -max_score to max_score."""
    if code not in scales:
        return "unknown"
    kind, max_score = scales[code]
    if kind == PF16:
        return "trait"
    return None if is_number(value) and abs(value) <= max_score else "range"


# ---------------------------------------------------------------------------------------------
# The same rules in the file's words (the models' validators and `first_problem` use them)


def _kind_problem(kind: Any, max_score: Any, norm_table: Any, likert_items: Any) -> str | None:
    """What is wrong with the fields that depend on a competency's kind, in the order a
    reader checks them."""
    match max_score_fault(kind, max_score):
        case "missing":
            return "field 'max_score' is missing."
        case "positive":
            return f"field 'max_score' must be a number greater than 0, got {max_score!r}."
        case "sten":
            return (
                f"field 'max_score' of a 16pf competency must be {STEN_MAX} (a sten score runs "
                f"from 1 to {STEN_MAX}), got {max_score!r}."
            )
    if kind != PF16:
        for name, value in (("norm_table", norm_table), ("likert_items", likert_items)):
            if value != []:
                return (
                    f"field {name!r} is only for 16pf competencies; a situational-judgement "
                    "(sjt) competency is marked by the options candidates choose."
                )
        return None
    if not isinstance(likert_items, list) or not likert_items:
        return (
            "field 'likert_items' must be a non-empty list of Likert items (a 16pf competency "
            "needs them)."
        )
    items = len(likert_items)
    match norm_table_fault(norm_table, items):
        case "size":
            return (
                f"field 'norm_table' must be a list of {NORM_CUTS} numbers, the raw-score "
                f"cut-offs of stens 2 to {STEN_MAX}; got {norm_table!r}."
            )
        case "order":
            return (
                "field 'norm_table' must be in ascending order (each cut-off higher than the "
                f"one before); got {norm_table!r}."
            )
        case "range":
            low, high = LIKERT_MIN * items, LIKERT_MAX * items
            return (
                f"field 'norm_table' must lie within the raw scores its {items} Likert items "
                f"can give ({low} to {high}, the last cut-off below {high}), or some stens "
                f"could never be reached; got {norm_table!r}."
            )
    return None


def _mark_problem(code: str, value: Any, scales: Mapping[str, tuple[Any, Any]]) -> str | None:
    match mark_fault(code, value, scales):
        case "unknown":
            return (
                f"field 'marks' names unknown competency {code!r} (this roleplay's "
                f"competencies are {', '.join(scales)})."
            )
        case "trait":
            return (
                f"field 'marks' gives marks to 16pf competency {code!r}, which is measured by "
                "its Likert items only."
            )
        case "range":
            top = float(scales[code][1])
            return (
                f"field 'marks': {code!r} must be a number from -{top:g} to {top:g} (its "
                f"max_score), got {value!r}."
            )
    return None


def _named(label: str, number: int, name: Any) -> str:
    """`Roleplay 2 ("Team Conflict")`, or `Roleplay 2` while the name is not usable."""
    if isinstance(name, str) and not is_blank(name):
        return f'{label} {number} ("{name}")'
    return f"{label} {number}"


def label(field: str, number: int, item: Any) -> str:
    """How messages name item `number` (from 1) of the list `field`, from what the item holds
    (a dict of the file, or its model)."""

    def get(name: str) -> Any:
        return item.get(name) if isinstance(item, dict) else getattr(item, name, None)

    if field == "roleplays":
        return _named("Roleplay", number, get("roleplay_name"))
    if field == "stakeholders":
        return _named("stakeholder", number, get("name"))
    if field == "competencies":
        code = get("code")
        return f"competency {number}" + (f" ({code})" if isinstance(code, str) and code else "")
    if field == "turns":
        key = get("key")
        return f"turn {key!r}" if isinstance(key, str) and key else f"turn {number}"
    return f"Likert item {number}" if field == "likert_items" else f"option {number}"


def _repeated(values: list[Any]) -> tuple[int, int] | None:
    """The index of the first value (None aside) that an earlier one has, and that earlier's."""
    first: dict[Any, int] = {}
    for n, value in enumerate(values):
        if value is not None and value in first:
            return n, first[value]
        first[value] = n
    return None


# ---------------------------------------------------------------------------------------------
# The declaration

Identifier = Annotated[str, Field(pattern=ID_REGEX)]


def _not_reserved(value: str | None) -> str | None:
    if value is not None and value.lower() in RESERVED_ROLEPLAY_IDS:
        raise _refuse(
            f"roleplay_id {value!r} is reserved (it names a page of the candidate's pages, "
            "/roleplay/<id>/); choose another."
        )
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(
        strict=True, extra="forbid", frozen=True, use_attribute_docstrings=True
    )


class LikertItemIn(_Strict):
    """A statement the candidate rates from 1 (disagree) to 5 (agree)."""

    statement: NotBlank
    reverse: bool = False
    """Agreeing means less of the trait: the rating counts 6 − rating."""


# What depends on the kind, for editors that check files against the JSON Schema.
_KIND_SCHEMA: JsonDict = {
    "if": {"properties": {"kind": {"const": PF16}}, "required": ["kind"]},
    "then": {
        "properties": {
            "max_score": {"enum": [STEN_MAX, None]},  # a sten (null: the same)
            "norm_table": {"minItems": NORM_CUTS, "maxItems": NORM_CUTS},
            "likert_items": {"minItems": 1},
        },
        "required": ["norm_table", "likert_items"],
    },
    "else": {
        "properties": {
            "max_score": {"type": "number", "exclusiveMinimum": 0},
            "norm_table": {"maxItems": 0},
            "likert_items": {"maxItems": 0},
        },
        "required": ["max_score"],
    },
}


class CompetencyIn(_Strict):
    """What a roleplay measures: a situational-judgement competency (sjt), scored by the marks of
    the options chosen, or a 16PF trait (16pf), a sten from its Likert items and norm table."""

    model_config = ConfigDict(json_schema_extra=_KIND_SCHEMA)

    code: Annotated[Identifier, Field(max_length=column_length(Competency, "code"))]
    """The id partners see, and the key of option marks."""
    name: Annotated[NotBlank, Field(max_length=column_length(Competency, "name"))]
    kind: Kind = "sjt"
    max_score: Number | None = None
    """sjt: the most marks, greater than 0 (required). 16pf: 10, a sten."""
    norm_table: list[Number] = []
    """16pf only: 9 ascending raw-score cut-offs of stens 2 to 10."""
    likert_items: list[LikertItemIn] = []
    """16pf only: at least one."""

    @model_validator(mode="after")
    def _by_kind(self) -> Self:
        problem = _kind_problem(self.kind, self.max_score, self.norm_table, self.likert_items)
        if problem:
            raise _refuse(problem)
        return self

    @property
    def top_score(self) -> float:
        """What it is scored out of: its max_score, or a sten's 10."""
        return float(STEN_MAX if self.kind == PF16 else self.max_score or 0)


class OptionIn(_Strict):
    """A reply the candidate may choose."""

    text: NotBlank
    marks: dict[str, Number] | None = None
    """Competency code → marks, for this roleplay's sjt competencies; none when left out."""
    next: Annotated[str | None, Field(min_length=1)] = None
    """The key of the turn the talk goes on with (of the same stakeholder); null ends it."""


class TurnIn(_Strict):
    """Something the stakeholder says, and the candidate's options."""

    key: Annotated[Identifier, Field(max_length=column_length(Turn, "key"))]
    """Unique within the roleplay."""
    message: NotBlank
    options: Annotated[list[OptionIn], Field(min_length=2)]


class StakeholderIn(_Strict):
    """Someone the candidate talks to; the first turn opens the conversation."""

    name: Annotated[NotBlank, Field(max_length=column_length(Stakeholder, "name"))]
    role: Annotated[NotBlank, Field(max_length=column_length(Stakeholder, "role"))]
    brief: Plain = ""
    turns: Annotated[list[TurnIn], Field(min_length=1)]


class RoleplayIn(_Strict):
    """One roleplay of the cluster: a scenario, what it measures and whom the candidate meets."""

    roleplay_id: Annotated[
        Identifier | None,
        Field(max_length=column_length(Roleplay, "roleplay_id")),
        AfterValidator(_not_reserved),
    ] = None
    """Unique across clusters; generated when left out."""
    roleplay_name: Annotated[NotBlank, Field(max_length=column_length(Roleplay, "roleplay_name"))]
    total_time_minutes: Annotated[int, Field(ge=1, le=INT_MAX)]
    scenario: NotBlank
    competencies: Annotated[list[CompetencyIn], Field(min_length=1)]
    stakeholders: Annotated[list[StakeholderIn], Field(min_length=1, max_length=MAX_STAKEHOLDERS)]

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        """What spans the roleplay's parts: unique codes, names and turn keys, the marks of
        every option, each conversation's graph, and that every sjt competency is scored."""
        if twice := _repeated([c.code for c in self.competencies]):
            n, _first = twice
            code = self.competencies[n].code
            raise _refuse(f"code {code!r} is used twice in this roleplay.", ("competencies", n))
        scales = {c.code: (c.kind, c.max_score) for c in self.competencies}
        names: set[str] = set()
        owners: dict[str, int] = {}  # turn key → its stakeholder's index
        for s, stakeholder in enumerate(self.stakeholders):
            for t, turn in enumerate(stakeholder.turns):
                for o, option in enumerate(turn.options):
                    for code, value in (option.marks or {}).items():
                        problem = _mark_problem(code, value, scales)
                        if problem:
                            raise _refuse(problem, ("stakeholders", s, "turns", t, "options", o))
            if stakeholder.name in names:
                raise _refuse(
                    f"another stakeholder of this roleplay is already named "
                    f"{stakeholder.name!r}; candidates tell them apart by name.",
                    ("stakeholders", s),
                )
            names.add(stakeholder.name)
            for t, turn in enumerate(stakeholder.turns):
                if turn.key in owners:
                    owner = owners[turn.key]
                    raise _refuse(
                        f"key {turn.key!r} is already used by a turn of "
                        f"{label('stakeholders', owner + 1, self.stakeholders[owner])}; turn "
                        "keys are unique within a roleplay.",
                        ("stakeholders", s, "turns", t),
                    )
                owners[turn.key] = s
        for s in range(len(self.stakeholders)):
            self._check_conversation(s, owners)
        for n, competency in enumerate(self.competencies):
            marked = any(
                (option.marks or {}).get(competency.code, 0) > 0
                for stakeholder in self.stakeholders
                for turn in stakeholder.turns
                for option in turn.options
            )
            if competency.kind == SJT and not marked:
                raise _refuse(
                    "no option gives it positive marks, so every candidate would score 0 on it.",
                    ("competencies", n),
                )
        return self

    def _check_conversation(self, s: int, owners: dict[str, int]) -> None:
        """Every `next` leads forward to a turn of the same stakeholder, and every turn is reached.

        A loop would ask the candidate a turn they have already answered (each turn is answered
        once); an unreachable turn is content nobody ever sees, usually a mistyped `next`.
        """
        stakeholder = self.stakeholders[s]
        index = {turn.key: t for t, turn in enumerate(stakeholder.turns)}
        for t, turn in enumerate(stakeholder.turns):
            for o, option in enumerate(turn.options):
                if option.next is None or option.next in index:
                    continue
                at = ("stakeholders", s, "turns", t, "options", o)
                owner = owners.get(option.next)
                if owner is None:
                    raise _refuse(f"field 'next' points to unknown turn {option.next!r}.", at)
                raise _refuse(
                    f"field 'next' points to turn {option.next!r} of "
                    f"{label('stakeholders', owner + 1, self.stakeholders[owner])}; a "
                    "conversation can only continue with the same stakeholder.",
                    at,
                )

        opening = stakeholder.turns[0]
        # Depth-first from the opening turn, without recursion (a long talk must not overflow).
        state = {opening.key: "open"}  # "open" while on the current path, "done" after
        path = [opening.key]
        stack = [iter(enumerate(opening.options))]
        while stack:
            for o, option in stack[-1]:
                key = option.next
                if key is None:
                    continue
                if state.get(key) == "open":
                    loop = " → ".join([*path[path.index(key) :], key])
                    raise _refuse(
                        f"field 'next' points back to turn {key!r}, making a loop ({loop}); a "
                        "conversation must always move forward.",
                        ("stakeholders", s, "turns", index[path[-1]], "options", o),
                    )
                if key not in state:
                    state[key] = "open"
                    path.append(key)
                    stack.append(iter(enumerate(stakeholder.turns[index[key]].options)))
                    break
            else:
                state[path.pop()] = "done"
                stack.pop()

        for t, turn in enumerate(stakeholder.turns):
            if turn.key not in state:
                raise _refuse(
                    "no option leads to this turn, so no candidate would ever see it (the "
                    f"conversation opens with turn {opening.key!r}).",
                    ("stakeholders", s, "turns", t),
                )


class ClusterFile(_Strict):
    """A roleplay cluster with all its content: a portal-cluster/1 file."""

    format: Literal["portal-cluster/1"]
    cluster_id: Annotated[
        Identifier | None,
        Field(max_length=column_length(Cluster, "cluster_id")),
    ] = None
    """The assessment_cluster_id partners launch; generated when left out. A file whose
    cluster_id exists replaces that cluster's content."""
    cluster_name: Annotated[NotBlank, Field(max_length=column_length(Cluster, "cluster_name"))]
    cluster_type: Annotated[NotBlank, Field(max_length=column_length(Cluster, "cluster_type"))]
    description: Plain = ""
    language: Language = "en"
    """The language of the candidate's pages (the content is written in it)."""
    is_active: bool = True
    roleplays: Annotated[list[RoleplayIn], Field(min_length=1)]

    @model_validator(mode="after")
    def _roleplay_ids_unique(self) -> Self:
        if twice := _repeated([r.roleplay_id for r in self.roleplays]):
            n, earlier = twice
            raise _refuse(
                f"roleplay_id {self.roleplays[n].roleplay_id!r} is already used by "
                f"{label('roleplays', earlier + 1, self.roleplays[earlier])}; roleplay ids are "
                "unique.",
                ("roleplays", n),
            )
        return self


# ---------------------------------------------------------------------------------------------
# The formatter: the first problem of a ValidationError, in the format's words

# A list field → the model of its items: how an error's place walks down the document.
_ITEMS: dict[str, type[BaseModel]] = {
    "roleplays": RoleplayIn,
    "competencies": CompetencyIn,
    "likert_items": LikertItemIn,
    "stakeholders": StakeholderIn,
    "turns": TurnIn,
    "options": OptionIn,
}


@dataclass(frozen=True)
class _Place:
    where: str  # "Cluster", or 'Roleplay 1 ("…"), stakeholder 2 ("…"), turn 'a1'', …
    model: type[BaseModel]  # what declares the object there
    node: Any  # the object as the file has it
    roleplay: Any  # the roleplay it is in, as the file has it (None above the roleplays)
    rest: tuple[str | int, ...]  # the place in the object: (field, …), or () for itself


def _place(data: Any, loc: tuple[str | int, ...]) -> _Place:
    names: list[str] = []
    model: type[BaseModel] = ClusterFile
    node, roleplay, i = data, None, 0
    while (
        i + 1 < len(loc)
        and loc[i] in _ITEMS
        and loc[i] in model.model_fields
        and isinstance(loc[i + 1], int)
    ):
        field, number = str(loc[i]), int(loc[i + 1])
        if not _length_ok(model, field, node[field]):
            break  # too few or too many: the list is the problem, not an item of it
        if field == "likert_items" and node.get("kind", SJT) != PF16:
            break  # an sjt competency has no items to speak of: "only for 16pf"
        node = node[field][number]
        names.append(label(field, number + 1, node))
        model = _ITEMS[field]
        roleplay = node if field == "roleplays" else roleplay
        i += 2
    return _Place(", ".join(names) or "Cluster", model, node, roleplay, loc[i:])


def _length_ok(model: type[BaseModel], field: str, items: list) -> bool:
    # pydantic checks a list's length only once its items are valid; a reader sees it first.
    metadata = model.model_fields[field].metadata
    low = next((m.min_length for m in metadata if isinstance(m, MinLen)), 0)
    high = next((m.max_length for m in metadata if isinstance(m, MaxLen)), len(items))
    return low <= len(items) <= high


def _reading_order(error: Mapping[str, Any]) -> tuple:
    """Sorts problems as a reader of the file meets them: the format first; in each object its
    unknown fields, then its missing ones, then its fields in the declared order, each with
    what it holds."""
    loc, kind = tuple(error["loc"]), error["type"]
    model: type[BaseModel] | None = ClusterFile
    key: list[tuple] = []
    for n, part in enumerate(loc):
        last = n == len(loc) - 1
        if isinstance(part, int):
            key.append((part,))
            continue
        fields = list(model.model_fields) if model is not None else []
        if model is ClusterFile and part == "format":
            key.append((-3,))
        elif last and kind == "extra_forbidden":
            key.append((-2, part))
        elif part in fields:
            key.append(
                (-1, fields.index(part)) if last and kind == "missing" else (fields.index(part),)
            )
        else:
            key.append((len(fields), part))  # a competency code in marks
        model = _ITEMS.get(part) if part in fields else None
    return tuple(key)


def first_problem(error: ValidationError, data: Any) -> str:
    """The problem of `error` (`data` validated as ClusterFile) that the file shows first, in
    the format's words: the place, the field and what is wrong with it."""
    errors = error.errors(include_url=False)
    first = min(errors, key=_reading_order)
    loc, kind = tuple(first["loc"]), first["type"]
    if kind == "cluster_rule":
        return f"{_place(data, loc + first['ctx']['at']).where}: {first['ctx']['message']}"
    place = _place(data, loc)
    if place.model is ClusterFile and place.rest[:1] == ("format",):  # never an unknown field
        if kind == "missing":
            return f"Field 'format' is missing; a portal cluster file says {FORMAT!r}."
        return wrong_format(FORMAT, data["format"], "portal cluster file")
    problem = object_problem(errors, loc, kind, place.where, place.rest)
    if problem is not None:
        return problem
    name = str(place.rest[0])
    return f"{place.where}: {_field_problem(name, place.node.get(name), place)}"


def _field_problem(name: str, value: Any, place: _Place) -> str:
    """What is wrong with `value`, of field `name` (`first_problem` names the place)."""
    match name:
        case "description" | "brief":
            return f"field {name!r} must be a string (it may be empty)."
        case "is_active" | "reverse":
            return f"field {name!r} must be true or false, got {value!r}."
        case "language":
            codes = ", ".join(map(repr, language_codes()))
            return f"field 'language' must be one of {codes}; got {value!r}."
        case "total_time_minutes":
            metadata = place.model.model_fields[name].metadata
            low = next(m.ge for m in metadata if isinstance(m, Ge))
            high = next(m.le for m in metadata if isinstance(m, Le))
            return (
                "field 'total_time_minutes' must be a whole number of minutes, "
                f"from {low} to {high}; got {value!r}."
            )
        case "kind":
            return f"field 'kind' must be 'sjt' or '16pf', got {value!r}."
        case "max_score" | "norm_table" | "likert_items":
            node = place.node
            problem = _kind_problem(
                node.get("kind", SJT),
                node.get("max_score"),
                node.get("norm_table", []),
                node.get("likert_items", []),
            )
            return problem or f"field {name!r} is not valid."
        case "stakeholders" if isinstance(value, list) and len(value) > MAX_STAKEHOLDERS:
            return f"{len(value)} stakeholders; the most allowed is {MAX_STAKEHOLDERS}."
        case "roleplays" | "competencies" | "stakeholders" | "turns":
            return f"field {name!r} must be a non-empty list of {name}."
        case "options":
            return (
                "field 'options' must be a list of at least 2 of options (the candidate must "
                "have a choice)."
            )
        case "marks":
            code = place.rest[1] if len(place.rest) > 1 else None
            if isinstance(code, str):  # a mark that is not a number
                scales: dict[Any, tuple[Any, Any]] = {  # keys as the file has them
                    c.get("code"): (c.get("kind", SJT), c.get("max_score"))
                    for c in place.roleplay["competencies"]
                    if isinstance(c, dict)
                }
                problem = _mark_problem(code, value[code], scales)
                if problem:
                    return problem
            return f"field 'marks' must be an object of competency code → marks, got {value!r}."
        case "next":
            return f"field 'next' must be a turn key or null (the talk ends), got {value!r}."
    # Text: names, messages, and ids (cluster_id, roleplay_id, code, key).
    metadata = place.model.model_fields[name].metadata
    limit = next((m.max_length for m in metadata if isinstance(m, MaxLen)), None)
    if isinstance(value, str) and not is_blank(value):
        if limit is not None and len(value) > limit:
            return f"field {name!r} is {len(value)} characters long; the most allowed is {limit}."
        if name in {"cluster_id", "roleplay_id", "code", "key"} and not ID_PATTERN.fullmatch(value):
            return f"field {name!r} must use only {ID_RULE}; got {value!r}."
    return f"field {name!r} must be a non-empty string."
