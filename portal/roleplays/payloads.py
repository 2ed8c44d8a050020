"""The payloads we send partners about clusters (seed 000): the cluster metadata sync.

The results payload is built where assessments complete (portal/roleplays/services.py).
Both are published as JSON Schema in schemas/ (see portal/roleplays/schemas.py).
"""

from django.db.models import Prefetch

from portal.roleplays.models import Cluster, Competency, Roleplay
from scoring.roleplays import STEN_MAX


def _plain_number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _max_score(competency: Competency) -> int | float:
    # A 16PF trait is reported as a sten, 1..10, whatever the stored max_score says.
    if competency.kind == Competency.Kind.PF16:
        return STEN_MAX
    return _plain_number(competency.max_score)


def cluster_metadata(cluster: Cluster) -> dict:
    """The `cluster_metadata_sync` payload of a cluster (schemas/cluster_metadata_sync.json).

    Two queries whatever the cluster's size: its roleplays, then their competencies.
    """
    roleplays = list(
        Roleplay.objects.filter(cluster=cluster)
        .order_by("position", "id")
        .prefetch_related(Prefetch("competencies", Competency.objects.order_by("position", "id")))
    )
    return {
        "cluster_id": cluster.cluster_id,
        "cluster_name": cluster.cluster_name,
        "cluster_type": cluster.cluster_type,
        "number_of_roleplays": len(roleplays),
        "roleplays": [
            {
                "roleplay_id": roleplay.roleplay_id,
                "roleplay_name": roleplay.roleplay_name,
                "total_time_minutes": roleplay.total_time_minutes,
                "competencies": [
                    {"id": c.code, "name": c.name, "max_score": _max_score(c)}
                    for c in roleplay.competencies.all()
                ],
            }
            for roleplay in roleplays
        ],
    }
