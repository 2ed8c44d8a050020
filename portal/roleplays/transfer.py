"""Clusters as portable JSON ("portal-cluster/1"): export a cluster with its content, import one.

The format is declared in portal/roleplays/format.py and documented field by field in
docs/roleplay-format.md.
"""

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Model, Prefetch, ProtectedError, QuerySet
from pydantic import ValidationError

from portal.jsonformat import FormatError, plain_number
from portal.roleplays.format import FORMAT, PF16, ClusterFile, RoleplayIn, first_problem, label
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
from scoring.roleplays import STEN_MAX


class ClusterFormatError(FormatError):
    """The JSON is not a valid portal-cluster/1 document, or cannot be applied to this cluster."""


# ---------------------------------------------------------------------------------------------
# Export


def _by_position(model: type[Model]) -> QuerySet:
    # Explicit, so that the prefetch queries don't join the parent only to order by it.
    return model._default_manager.order_by("position", "id")


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
        return {code: plain_number(option.marks[code]) for code in codes}

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
        "max_score": STEN_MAX if competency.kind == PF16 else plain_number(competency.max_score),
    }
    if competency.kind == PF16:
        # Only 16PF competencies have these; an SJT competency is marked by options.
        data["norm_table"] = [plain_number(cut) for cut in competency.norm_table or []]
        data["likert_items"] = [
            {"statement": item.statement, "reverse": item.reverse}
            for item in competency.likert_items.all()
        ]
    return data


# ---------------------------------------------------------------------------------------------
# Validation


def validate(data: Any) -> ClusterFile:
    """The whole document checked against the format (portal/roleplays/format.py) before
    anything is written; ClusterFormatError names the first problem and its place.

    `import_cluster` adds the checks that need the database (ids already used by another
    cluster, assessments).
    """
    try:
        return ClusterFile.model_validate(data)
    except ValidationError as error:
        raise ClusterFormatError(first_problem(error, data)) from None


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
    file = validate(data)
    if cluster is not None and file.cluster_id not in (None, cluster.cluster_id):
        raise ClusterFormatError(
            f"The file is for cluster {file.cluster_id!r}, not {cluster.cluster_id!r}; remove "
            "its cluster_id, or import it without naming a cluster."
        )
    try:
        with transaction.atomic():
            return _write(file, cluster)
    except IntegrityError as error:
        # Another import took a cluster or roleplay id between our checks and our writes.
        raise ClusterFormatError(
            f"The cluster could not be saved ({error}); another import may have just used one "
            "of its ids. Try again."
        ) from error


def _write(file: ClusterFile, cluster: Cluster | None) -> Cluster:
    fields = file.model_dump(
        include={"cluster_name", "cluster_type", "description", "language", "is_active"}
    )
    lookup = {"pk": cluster.pk} if cluster is not None else {"cluster_id": file.cluster_id}
    # Lock the row so the assessments check and the replacement see the same assessments.
    target = None
    if cluster is not None or file.cluster_id is not None:
        target = Cluster.objects.select_for_update().filter(**lookup).first()
        if cluster is not None and target is None:
            raise ClusterFormatError(f"Cluster {cluster.cluster_id!r} no longer exists.")

    numbers = {r.roleplay_id: n for n, r in enumerate(file.roleplays, start=1) if r.roleplay_id}
    taken = Roleplay.objects.filter(roleplay_id__in=numbers).select_related("cluster")
    if target is not None:
        taken = taken.exclude(cluster=target)
    for other in taken:
        number = numbers[other.roleplay_id]
        raise ClusterFormatError(
            f"{label('roleplays', number, file.roleplays[number - 1])}: roleplay_id "
            f"{other.roleplay_id!r} already belongs to cluster {other.cluster.cluster_id!r} "
            f"({other.cluster.cluster_name}); roleplay ids are unique across clusters. Remove "
            "it to have a new one generated."
        )

    if target is None:
        extra = {"cluster_id": file.cluster_id} if file.cluster_id is not None else {}
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

    for position, roleplay in enumerate(file.roleplays, start=1):
        _write_roleplay(target, position, roleplay)
    return target


def _write_roleplay(cluster: Cluster, position: int, data: RoleplayIn) -> Roleplay:
    extra = {"roleplay_id": data.roleplay_id} if data.roleplay_id is not None else {}
    roleplay = Roleplay.objects.create(
        cluster=cluster,
        position=position,
        roleplay_name=data.roleplay_name,
        total_time_minutes=data.total_time_minutes,
        scenario=data.scenario,
        **extra,
    )
    competencies = Competency.objects.bulk_create(
        Competency(
            roleplay=roleplay,
            position=n,
            code=c.code,
            name=c.name,
            kind=c.kind,
            max_score=c.top_score,
            norm_table=list(c.norm_table),
        )
        for n, c in enumerate(data.competencies, start=1)
    )
    LikertItem.objects.bulk_create(
        LikertItem(competency=competency, position=n, statement=i.statement, reverse=i.reverse)
        for competency, c in zip(competencies, data.competencies, strict=True)
        for n, i in enumerate(c.likert_items, start=1)
    )
    stakeholders = Stakeholder.objects.bulk_create(
        Stakeholder(roleplay=roleplay, position=n, name=s.name, role=s.role, brief=s.brief)
        for n, s in enumerate(data.stakeholders, start=1)
    )
    turn_data = [
        (stakeholder, n, t)
        for stakeholder, s in zip(stakeholders, data.stakeholders, strict=True)
        for n, t in enumerate(s.turns, start=1)
    ]
    turns = Turn.objects.bulk_create(
        Turn(stakeholder=stakeholder, key=t.key, position=n, message=t.message)
        for stakeholder, n, t in turn_data
    )
    by_key = {turn.key: turn for turn in turns}
    Option.objects.bulk_create(
        Option(
            turn=turn,
            position=n,
            text=o.text,
            marks=dict(o.marks or {}),
            next_turn=by_key[o.next] if o.next is not None else None,
        )
        for turn, (_stakeholder, _n, t) in zip(turns, turn_data, strict=True)
        for n, o in enumerate(t.options, start=1)
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
