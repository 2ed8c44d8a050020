"""Clusters as portable JSON ("portal-cluster/1"): export a cluster with its content, import one.

The format is documented field by field in docs/roleplay-format.md.
"""

import re
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, ProtectedError

from portal import jsonformat as jf
from portal.jsonformat import REQUIRED, FormatError
from portal.roleplays.models import (
    Assessment,
    Cluster,
    Competency,
    LikertItem,
    Option,
    Roleplay,
    Stakeholder,
    Turn,
)
from scoring.roleplays import LIKERT_MAX, LIKERT_MIN, STEN_MAX

FORMAT = "portal-cluster/1"
SJT, PF16 = Competency.Kind.SJT.value, Competency.Kind.PF16.value
# Ids travel in URLs, form fields and JWT claims, and codes are JSON keys of option marks:
# letters, digits and . _ - only, so none of them needs escaping anywhere.
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
ID_RULE = "letters, digits, '.', '_' and '-', starting with a letter or digit"
INT_MAX = 2147483647
# Paths of the candidate's pages that a roleplay id would collide with (/roleplay/<id>/).
RESERVED_ROLEPLAY_IDS = {"done"}
MAX_STAKEHOLDERS = 99  # results report them as a 2-digit string


# Field name → default when the file leaves it out (REQUIRED: it may not).
CLUSTER_FIELDS: dict[str, Any] = {
    "format": REQUIRED,
    "cluster_id": None,
    "cluster_name": REQUIRED,
    "cluster_type": REQUIRED,
    "description": "",
    "language": "en",
    "is_active": True,
    "roleplays": REQUIRED,
}
ROLEPLAY_FIELDS: dict[str, Any] = {
    "roleplay_id": None,
    "roleplay_name": REQUIRED,
    "total_time_minutes": REQUIRED,
    "scenario": REQUIRED,
    "competencies": REQUIRED,
    "stakeholders": REQUIRED,
}
COMPETENCY_FIELDS: dict[str, Any] = {
    "code": REQUIRED,
    "name": REQUIRED,
    "kind": SJT,
    "max_score": None,  # required for sjt; 16pf is a sten, always out of 10
    "norm_table": (),
    "likert_items": (),
}
LIKERT_FIELDS: dict[str, Any] = {"statement": REQUIRED, "reverse": False}
STAKEHOLDER_FIELDS: dict[str, Any] = {
    "name": REQUIRED,
    "role": REQUIRED,
    "brief": "",
    "turns": REQUIRED,
}
TURN_FIELDS: dict[str, Any] = {"key": REQUIRED, "message": REQUIRED, "options": REQUIRED}
OPTION_FIELDS: dict[str, Any] = {"text": REQUIRED, "marks": None, "next": None}


def _max_length(model: type, name: str) -> int:
    return model._meta.get_field(name).max_length


class ClusterFormatError(FormatError):
    """The JSON is not a valid portal-cluster/1 document, or cannot be applied to this cluster."""


# ---------------------------------------------------------------------------------------------
# Export


def _by_position(model: type) -> Any:
    # Explicit, so that the prefetch queries don't join the parent only to order by it.
    return model.objects.order_by("position", "id")


def export_cluster(cluster: Cluster) -> dict:
    """Return the cluster and all its content, in authoring order, as a portal-cluster/1 dict."""
    roleplays = (
        _by_position(Roleplay)
        .filter(cluster=cluster)
        .prefetch_related(
            Prefetch(
                "competencies",
                _by_position(Competency).prefetch_related(
                    Prefetch("likert_items", _by_position(LikertItem))
                ),
            ),
            Prefetch(
                "stakeholders",
                _by_position(Stakeholder).prefetch_related(
                    Prefetch(
                        "turns",
                        _by_position(Turn).prefetch_related(
                            Prefetch("options", _by_position(Option).select_related("next_turn"))
                        ),
                    )
                ),
            ),
        )
    )
    return {
        "format": FORMAT,
        "cluster_id": cluster.cluster_id,
        "cluster_name": cluster.cluster_name,
        "cluster_type": cluster.cluster_type,
        "description": cluster.description,
        # Only when not the default: files of English clusters stay as they were before the
        # field existed, byte for byte.
        **({"language": cluster.language} if cluster.language != "en" else {}),
        "is_active": cluster.is_active,
        "roleplays": [_export_roleplay(roleplay) for roleplay in roleplays],
    }


def _export_roleplay(roleplay: Roleplay) -> dict:
    competencies = list(roleplay.competencies.all())
    # Marks in the roleplay's competency order: PostgreSQL's jsonb does not keep key order.
    rank = {c.code: n for n, c in enumerate(competencies)}

    def marks(option: Option) -> dict:
        codes = sorted(option.marks or {}, key=lambda code: (rank.get(code, len(rank)), code))
        return {code: jf.plain_number(option.marks[code]) for code in codes}

    return {
        "roleplay_id": roleplay.roleplay_id,
        "roleplay_name": roleplay.roleplay_name,
        "total_time_minutes": roleplay.total_time_minutes,
        "scenario": roleplay.scenario,
        "competencies": [_export_competency(c) for c in competencies],
        "stakeholders": [
            {
                "name": stakeholder.name,
                "role": stakeholder.role,
                "brief": stakeholder.brief,
                "turns": [
                    {
                        "key": turn.key,
                        "message": turn.message,
                        "options": [
                            {
                                "text": option.text,
                                "marks": marks(option),
                                "next": option.next_turn.key if option.next_turn else None,
                            }
                            for option in turn.options.all()
                        ],
                    }
                    for turn in stakeholder.turns.all()
                ],
            }
            for stakeholder in roleplay.stakeholders.all()
        ],
    }


def _export_competency(competency: Competency) -> dict:
    data: dict[str, Any] = {
        "code": competency.code,
        "name": competency.name,
        "kind": competency.kind,
        "max_score": STEN_MAX if competency.kind == PF16 else jf.plain_number(competency.max_score),
    }
    if competency.kind == PF16:
        # Only 16PF competencies have these; an SJT competency is marked by options.
        data["norm_table"] = [jf.plain_number(cut) for cut in competency.norm_table or []]
        data["likert_items"] = [
            {"statement": item.statement, "reverse": item.reverse}
            for item in competency.likert_items.all()
        ]
    return data


# ---------------------------------------------------------------------------------------------
# The validated document: plain values, ready for the models


@dataclass
class OptionSpec:
    position: int
    text: str
    marks: dict[str, int | float]
    next_key: str | None
    where: str


@dataclass
class TurnSpec:
    position: int
    key: str
    message: str
    options: list[OptionSpec]
    where: str


@dataclass
class StakeholderSpec:
    position: int
    name: str
    role: str
    brief: str
    turns: list[TurnSpec]
    where: str


@dataclass
class CompetencySpec:
    position: int
    code: str
    name: str
    kind: str
    max_score: float
    norm_table: list[int | float]
    likert_items: list[tuple[str, bool]]
    where: str


@dataclass
class RoleplaySpec:
    position: int
    roleplay_id: str | None
    roleplay_name: str
    total_time_minutes: int
    scenario: str
    competencies: list[CompetencySpec]
    stakeholders: list[StakeholderSpec]
    where: str


@dataclass
class ClusterSpec:
    cluster_id: str | None
    cluster_name: str
    cluster_type: str
    description: str
    is_active: bool
    language: str = "en"
    roleplays: list[RoleplaySpec] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Validation


def _optional_text(value: Any, where: str, name: str) -> str:
    if not isinstance(value, str):
        raise ClusterFormatError(f"{where}: field {name!r} must be a string (it may be empty).")
    return value


def _identifier(value: Any, where: str, name: str, max_length: int) -> str:
    jf.text(value, where, name, max_length)
    if not ID_PATTERN.fullmatch(value):
        raise ClusterFormatError(f"{where}: field {name!r} must use only {ID_RULE}; got {value!r}.")
    return value


def _language(value: Any, where: str) -> str:
    codes = [code for code, _ in settings.LANGUAGES]
    if value not in codes:
        raise ClusterFormatError(
            f"{where}: field 'language' must be one of {', '.join(map(repr, codes))}; "
            f"got {value!r}."
        )
    return value


def _list(value: Any, where: str, name: str, what: str, *, minimum: int = 1) -> list:
    if not isinstance(value, list) or len(value) < minimum:
        least = "a non-empty list" if minimum == 1 else f"a list of at least {minimum}"
        raise ClusterFormatError(f"{where}: field {name!r} must be {least} of {what}.")
    return value


def _named(label: str, number: int, name: Any) -> str:
    """`Roleplay 2 ("Team Conflict")`, or `Roleplay 2` while the name is not usable."""
    if isinstance(name, str) and name.strip():
        return f'{label} {number} ("{name}")'
    return f"{label} {number}"


def validate(data: Any) -> ClusterSpec:
    """Check a whole document before writing anything; ClusterFormatError says where."""
    try:
        return _validate(data)
    except ClusterFormatError:
        raise
    except FormatError as error:
        raise ClusterFormatError(error.message) from None


def _validate(data: Any) -> ClusterSpec:
    """Return the whole document as plain values, or raise ClusterFormatError at the first error.

    Checks everything that can be checked without the database; `import_cluster` adds the
    checks that need it (ids already used by another cluster, assessments).
    """
    if not isinstance(data, dict):
        raise ClusterFormatError("The document must be a JSON object.")
    if "format" not in data:
        raise ClusterFormatError(
            f"Field 'format' is missing; a portal cluster file says {FORMAT!r}."
        )
    if data["format"] != FORMAT:
        raise ClusterFormatError(
            f"Field 'format' must be {FORMAT!r}, got {data['format']!r}; "
            "this is not a portal cluster file, or a version this portal cannot read."
        )
    where = "Cluster"
    values = jf.fields(data, CLUSTER_FIELDS, where)
    cluster_id = values["cluster_id"]
    if cluster_id is not None:
        _identifier(cluster_id, where, "cluster_id", _max_length(Cluster, "cluster_id"))
    spec = ClusterSpec(
        cluster_id=cluster_id,
        cluster_name=jf.text(
            values["cluster_name"], where, "cluster_name", _max_length(Cluster, "cluster_name")
        ),
        cluster_type=jf.text(
            values["cluster_type"], where, "cluster_type", _max_length(Cluster, "cluster_type")
        ),
        description=_optional_text(values["description"], where, "description"),
        is_active=jf.boolean(values["is_active"], where, "is_active"),
        language=_language(values["language"], where),
    )
    roleplays = _list(values["roleplays"], where, "roleplays", "roleplays")
    seen_ids: dict[str, str] = {}
    for number, obj in enumerate(roleplays, start=1):
        roleplay = _validate_roleplay(obj, number)
        if roleplay.roleplay_id is not None:
            if roleplay.roleplay_id in seen_ids:
                raise ClusterFormatError(
                    f"{roleplay.where}: roleplay_id {roleplay.roleplay_id!r} is already used by "
                    f"{seen_ids[roleplay.roleplay_id]}; roleplay ids are unique."
                )
            seen_ids[roleplay.roleplay_id] = roleplay.where
        spec.roleplays.append(roleplay)
    return spec


def _validate_roleplay(obj: Any, number: int) -> RoleplaySpec:
    where = _named("Roleplay", number, obj.get("roleplay_name") if isinstance(obj, dict) else None)
    values = jf.fields(obj, ROLEPLAY_FIELDS, where)
    roleplay_id = values["roleplay_id"]
    if roleplay_id is not None:
        _identifier(roleplay_id, where, "roleplay_id", _max_length(Roleplay, "roleplay_id"))
        if roleplay_id.lower() in RESERVED_ROLEPLAY_IDS:
            raise ClusterFormatError(
                f"{where}: roleplay_id {roleplay_id!r} is reserved (it names a page of the "
                "candidate's pages, /roleplay/<id>/); choose another."
            )
    minutes = values["total_time_minutes"]
    if not jf.is_int(minutes) or not 1 <= minutes <= INT_MAX:
        raise ClusterFormatError(
            f"{where}: field 'total_time_minutes' must be a whole number of minutes, at least 1; "
            f"got {minutes!r}."
        )
    roleplay = RoleplaySpec(
        position=number,
        roleplay_id=roleplay_id,
        roleplay_name=jf.text(
            values["roleplay_name"], where, "roleplay_name", _max_length(Roleplay, "roleplay_name")
        ),
        total_time_minutes=minutes,
        scenario=jf.text(values["scenario"], where, "scenario"),
        competencies=[],
        stakeholders=[],
        where=where,
    )

    competencies = _list(values["competencies"], where, "competencies", "competencies")
    for position, item in enumerate(competencies, start=1):
        competency = _validate_competency(item, position, where)
        if any(c.code == competency.code for c in roleplay.competencies):
            raise ClusterFormatError(
                f"{competency.where}: code {competency.code!r} is used twice in this roleplay."
            )
        roleplay.competencies.append(competency)
    by_code = {c.code: c for c in roleplay.competencies}

    stakeholders = _list(values["stakeholders"], where, "stakeholders", "stakeholders")
    if len(stakeholders) > MAX_STAKEHOLDERS:
        raise ClusterFormatError(
            f"{where}: {len(stakeholders)} stakeholders; the most allowed is {MAX_STAKEHOLDERS}."
        )
    # Turn key → the stakeholder that owns it, across the roleplay (keys are unique in it).
    owners: dict[str, StakeholderSpec] = {}
    for position, item in enumerate(stakeholders, start=1):
        stakeholder = _validate_stakeholder(item, position, where, by_code)
        if any(s.name == stakeholder.name for s in roleplay.stakeholders):
            raise ClusterFormatError(
                f"{stakeholder.where}: another stakeholder of this roleplay is already named "
                f"{stakeholder.name!r}; candidates tell them apart by name."
            )
        for turn in stakeholder.turns:
            if turn.key in owners:
                raise ClusterFormatError(
                    f"{turn.where}: key {turn.key!r} is already used by a turn of "
                    f"{owners[turn.key].where.removeprefix(where + ', ')}; "
                    "turn keys are unique within a roleplay."
                )
            owners[turn.key] = stakeholder
        roleplay.stakeholders.append(stakeholder)

    for stakeholder in roleplay.stakeholders:
        _check_conversation(stakeholder, owners, where)
    for competency in roleplay.competencies:
        marked = any(
            option.marks.get(competency.code, 0) > 0
            for stakeholder in roleplay.stakeholders
            for turn in stakeholder.turns
            for option in turn.options
        )
        if competency.kind == SJT and not marked:
            raise ClusterFormatError(
                f"{competency.where}: no option gives it positive marks, so every candidate "
                "would score 0 on it."
            )
    return roleplay


def _validate_competency(obj: Any, number: int, roleplay_where: str) -> CompetencySpec:
    code = obj.get("code") if isinstance(obj, dict) else None
    label = f"competency {number}" + (f" ({code})" if isinstance(code, str) and code else "")
    where = f"{roleplay_where}, {label}"
    values = jf.fields(obj, COMPETENCY_FIELDS, where)
    code = _identifier(values["code"], where, "code", _max_length(Competency, "code"))
    name = jf.text(values["name"], where, "name", _max_length(Competency, "name"))
    kind = values["kind"]
    if kind not in (SJT, PF16):
        raise ClusterFormatError(f"{where}: field 'kind' must be 'sjt' or '16pf', got {kind!r}.")
    max_score = values["max_score"]
    norm_table = values["norm_table"]
    likert = values["likert_items"]

    if kind == SJT:
        if max_score is None:
            raise ClusterFormatError(f"{where}: field 'max_score' is missing.")
        if not jf.is_number(max_score) or max_score <= 0:
            raise ClusterFormatError(
                f"{where}: field 'max_score' must be a number greater than 0, got {max_score!r}."
            )
        for name_, value in (("norm_table", norm_table), ("likert_items", likert)):
            if value != [] and value != ():
                raise ClusterFormatError(
                    f"{where}: field {name_!r} is only for 16pf competencies; a situational-"
                    "judgement (sjt) competency is marked by the options candidates choose."
                )
        return CompetencySpec(number, code, name, kind, float(max_score), [], [], where)

    # 16PF: a sten from 1 to 10, from Likert items through the norm table.
    if max_score is not None and (not jf.is_number(max_score) or max_score != STEN_MAX):
        raise ClusterFormatError(
            f"{where}: field 'max_score' of a 16pf competency must be {STEN_MAX} (a sten score "
            f"runs from 1 to {STEN_MAX}), got {max_score!r}."
        )
    likert = _list(likert, where, "likert_items", "Likert items (a 16pf competency needs them)")
    items = []
    for position, item in enumerate(likert, start=1):
        item_where = f"{where}, Likert item {position}"
        item_values = jf.fields(item, LIKERT_FIELDS, item_where)
        items.append(
            (
                jf.text(item_values["statement"], item_where, "statement"),
                jf.boolean(item_values["reverse"], item_where, "reverse"),
            )
        )
    cuts = STEN_MAX - 1
    if (
        not isinstance(norm_table, list)
        or len(norm_table) != cuts
        or not all(jf.is_number(cut) for cut in norm_table)
    ):
        raise ClusterFormatError(
            f"{where}: field 'norm_table' must be a list of {cuts} numbers, the raw-score "
            f"cut-offs of stens 2 to {STEN_MAX}; got {norm_table!r}."
        )
    if any(low >= high for low, high in zip(norm_table, norm_table[1:], strict=False)):
        raise ClusterFormatError(
            f"{where}: field 'norm_table' must be in ascending order (each cut-off higher than "
            f"the one before); got {norm_table!r}."
        )
    lowest, highest = LIKERT_MIN * len(items), LIKERT_MAX * len(items)
    if norm_table[0] < lowest or norm_table[-1] >= highest:
        raise ClusterFormatError(
            f"{where}: field 'norm_table' must lie within the raw scores its {len(items)} Likert "
            f"items can give ({lowest} to {highest}, the last cut-off below {highest}), or some "
            f"stens could never be reached; got {norm_table!r}."
        )
    return CompetencySpec(number, code, name, kind, float(STEN_MAX), norm_table, items, where)


def _validate_stakeholder(
    obj: Any, number: int, roleplay_where: str, competencies: dict[str, CompetencySpec]
) -> StakeholderSpec:
    name = obj.get("name") if isinstance(obj, dict) else None
    where = f"{roleplay_where}, {_named('stakeholder', number, name)}"
    values = jf.fields(obj, STAKEHOLDER_FIELDS, where)
    stakeholder = StakeholderSpec(
        position=number,
        name=jf.text(values["name"], where, "name", _max_length(Stakeholder, "name")),
        role=jf.text(values["role"], where, "role", _max_length(Stakeholder, "role")),
        brief=_optional_text(values["brief"], where, "brief"),
        turns=[],
        where=where,
    )
    turns = _list(values["turns"], where, "turns", "turns")
    for position, item in enumerate(turns, start=1):
        key = item.get("key") if isinstance(item, dict) else None
        turn_where = f"{where}, " + (
            f"turn {key!r}" if isinstance(key, str) and key else f"turn {position}"
        )
        turn_values = jf.fields(item, TURN_FIELDS, turn_where)
        turn = TurnSpec(
            position=position,
            key=_identifier(turn_values["key"], turn_where, "key", _max_length(Turn, "key")),
            message=jf.text(turn_values["message"], turn_where, "message"),
            options=[],
            where=turn_where,
        )
        options = _list(
            turn_values["options"],
            turn_where,
            "options",
            "options (the candidate must have a choice)",
            minimum=2,
        )
        for option_position, option in enumerate(options, start=1):
            turn.options.append(_validate_option(option, option_position, turn_where, competencies))
        stakeholder.turns.append(turn)
    return stakeholder


def _validate_option(
    obj: Any, number: int, turn_where: str, competencies: dict[str, CompetencySpec]
) -> OptionSpec:
    where = f"{turn_where}, option {number}"
    values = jf.fields(obj, OPTION_FIELDS, where)
    text = jf.text(values["text"], where, "text")
    marks = {} if values["marks"] is None else values["marks"]
    if not isinstance(marks, dict):
        raise ClusterFormatError(
            f"{where}: field 'marks' must be an object of competency code → marks, got {marks!r}."
        )
    for code, value in marks.items():
        competency = competencies.get(code)
        if competency is None:
            known = ", ".join(competencies)
            raise ClusterFormatError(
                f"{where}: field 'marks' names unknown competency {code!r} "
                f"(this roleplay's competencies are {known})."
            )
        if competency.kind == PF16:
            raise ClusterFormatError(
                f"{where}: field 'marks' gives marks to 16pf competency {code!r}, which is "
                "measured by its Likert items only."
            )
        if not jf.is_number(value) or abs(value) > competency.max_score:
            raise ClusterFormatError(
                f"{where}: field 'marks': {code!r} must be a number from "
                f"-{competency.max_score:g} to {competency.max_score:g} (its max_score), "
                f"got {value!r}."
            )
    next_key = values["next"]
    if next_key is not None and (not isinstance(next_key, str) or not next_key):
        raise ClusterFormatError(
            f"{where}: field 'next' must be a turn key or null (the talk ends), got {next_key!r}."
        )
    return OptionSpec(number, text, dict(marks), next_key, where)


def _check_conversation(
    stakeholder: StakeholderSpec, owners: dict[str, StakeholderSpec], roleplay_where: str
) -> None:
    """Every `next` leads forward to a turn of the same stakeholder, and every turn is reached.

    A loop would ask the candidate a turn they have already answered (each turn is answered
    once); an unreachable turn is content nobody ever sees, usually a mistyped `next`.
    """
    turns = {turn.key: turn for turn in stakeholder.turns}
    for turn in stakeholder.turns:
        for option in turn.options:
            if option.next_key is None or option.next_key in turns:
                continue
            owner = owners.get(option.next_key)
            if owner is None:
                raise ClusterFormatError(
                    f"{option.where}: field 'next' points to unknown turn {option.next_key!r}."
                )
            raise ClusterFormatError(
                f"{option.where}: field 'next' points to turn {option.next_key!r} of "
                f"{owner.where.removeprefix(roleplay_where + ', ')}; a conversation can only "
                "continue with the same stakeholder."
            )

    opening = stakeholder.turns[0]
    # Depth-first from the opening turn, without recursion (a long talk must not overflow).
    state = {opening.key: "open"}  # "open" while on the current path, "done" after
    path = [opening.key]
    stack = [iter(opening.options)]
    while stack:
        for option in stack[-1]:
            key = option.next_key
            if key is None:
                continue
            if state.get(key) == "open":
                loop = " → ".join([*path[path.index(key) :], key])
                raise ClusterFormatError(
                    f"{option.where}: field 'next' points back to turn {key!r}, making a loop "
                    f"({loop}); a conversation must always move forward."
                )
            if key not in state:
                state[key] = "open"
                path.append(key)
                stack.append(iter(turns[key].options))
                break
        else:
            state[path.pop()] = "done"
            stack.pop()

    for turn in stakeholder.turns:
        if turn.key not in state:
            raise ClusterFormatError(
                f"{turn.where}: no option leads to this turn, so no candidate would ever see "
                f"it (the conversation opens with turn {opening.key!r})."
            )


# ---------------------------------------------------------------------------------------------
# Import


def import_cluster(data: Any, *, cluster: Cluster | None = None) -> Cluster:
    """Create a cluster from a portal-cluster/1 dict, or replace an existing cluster's content.

    The cluster replaced is `cluster` when given (the file's cluster_id, if any, must then be
    its id), otherwise the one with the file's cluster_id, if there is one. All or nothing:
    the document is validated before anything is written, and the writes run in one
    transaction. A cluster that has assessments keeps its content, because their attempts and
    answers refer to its roleplays, turns and options.
    """
    spec = validate(data)
    if cluster is not None and spec.cluster_id not in (None, cluster.cluster_id):
        raise ClusterFormatError(
            f"The file is for cluster {spec.cluster_id!r}, not {cluster.cluster_id!r}; remove "
            "its cluster_id, or import it without naming a cluster."
        )
    try:
        with transaction.atomic():
            return _write(spec, cluster)
    except IntegrityError as error:
        # Another import took a cluster or roleplay id between our checks and our writes.
        raise ClusterFormatError(
            f"The cluster could not be saved ({error}); another import may have just used one "
            "of its ids. Try again."
        ) from error


def _write(spec: ClusterSpec, cluster: Cluster | None) -> Cluster:
    fields = {
        "cluster_name": spec.cluster_name,
        "cluster_type": spec.cluster_type,
        "description": spec.description,
        "language": spec.language,
        "is_active": spec.is_active,
    }
    lookup = {"pk": cluster.pk} if cluster is not None else {"cluster_id": spec.cluster_id}
    # Lock the row so the assessments check and the replacement see the same assessments.
    target = None
    if cluster is not None or spec.cluster_id is not None:
        target = Cluster.objects.select_for_update().filter(**lookup).first()
        if cluster is not None and target is None:
            raise ClusterFormatError(f"Cluster {cluster.cluster_id!r} no longer exists.")

    ids = [r.roleplay_id for r in spec.roleplays if r.roleplay_id is not None]
    taken = Roleplay.objects.filter(roleplay_id__in=ids).select_related("cluster")
    if target is not None:
        taken = taken.exclude(cluster=target)
    for other in taken:
        where = next(r.where for r in spec.roleplays if r.roleplay_id == other.roleplay_id)
        raise ClusterFormatError(
            f"{where}: roleplay_id {other.roleplay_id!r} already belongs to cluster "
            f"{other.cluster.cluster_id!r} ({other.cluster.cluster_name}); roleplay ids are "
            "unique across clusters. Remove it to have a new one generated."
        )

    if target is None:
        extra = {"cluster_id": spec.cluster_id} if spec.cluster_id is not None else {}
        target = Cluster.objects.create(**fields, **extra)
    else:
        if Assessment.objects.filter(cluster=target).exists():
            raise _assessed_error(target)
        for name, value in fields.items():
            setattr(target, name, value)
        target.save()
        try:
            target.roleplays.all().delete()
        except ProtectedError as error:
            raise _assessed_error(target) from error

    for roleplay in spec.roleplays:
        _write_roleplay(target, roleplay)
    return target


def _write_roleplay(cluster: Cluster, spec: RoleplaySpec) -> Roleplay:
    extra = {"roleplay_id": spec.roleplay_id} if spec.roleplay_id is not None else {}
    roleplay = Roleplay.objects.create(
        cluster=cluster,
        position=spec.position,
        roleplay_name=spec.roleplay_name,
        total_time_minutes=spec.total_time_minutes,
        scenario=spec.scenario,
        **extra,
    )
    competencies = Competency.objects.bulk_create(
        Competency(
            roleplay=roleplay,
            position=c.position,
            code=c.code,
            name=c.name,
            kind=c.kind,
            max_score=c.max_score,
            norm_table=c.norm_table,
        )
        for c in spec.competencies
    )
    LikertItem.objects.bulk_create(
        LikertItem(competency=competency, position=position, statement=statement, reverse=reverse)
        for competency, c in zip(competencies, spec.competencies, strict=True)
        for position, (statement, reverse) in enumerate(c.likert_items, start=1)
    )
    stakeholders = Stakeholder.objects.bulk_create(
        Stakeholder(roleplay=roleplay, position=s.position, name=s.name, role=s.role, brief=s.brief)
        for s in spec.stakeholders
    )
    turn_specs = [
        (stakeholder, t)
        for stakeholder, s in zip(stakeholders, spec.stakeholders, strict=True)
        for t in s.turns
    ]
    turns = Turn.objects.bulk_create(
        Turn(stakeholder=stakeholder, key=t.key, position=t.position, message=t.message)
        for stakeholder, t in turn_specs
    )
    by_key = {turn.key: turn for turn in turns}
    Option.objects.bulk_create(
        Option(
            turn=turn,
            position=o.position,
            text=o.text,
            marks=o.marks,
            next_turn=by_key[o.next_key] if o.next_key is not None else None,
        )
        for turn, (_stakeholder, t) in zip(turns, turn_specs, strict=True)
        for o in t.options
    )
    return roleplay


def _assessed_error(cluster: Cluster) -> ClusterFormatError:
    return ClusterFormatError(
        f"Cluster {cluster.cluster_id!r} ({cluster.cluster_name}) already has assessments, so "
        "its content can't be replaced: their attempts and answers refer to its roleplays, "
        "turns and options. Import the file as a new cluster instead (remove its cluster_id "
        "and roleplay_ids, or change them), and deactivate the old one if it should no longer "
        "be launched."
    )
