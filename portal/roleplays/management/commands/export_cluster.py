"""`manage.py export_cluster CLUSTER_ID`: write a cluster and its content as portal-cluster/1."""

from portal.documents import ExportCommand
from portal.roleplays.models import Cluster
from portal.roleplays.transfer import export_cluster


class Command(ExportCommand):
    help = (
        "Write a roleplay cluster and all its content as portal-cluster/1 JSON (stdout by default)."
    )
    key, key_help = "cluster_id", "The cluster's cluster_id."
    model, lookup, exporter = Cluster, "cluster_id", export_cluster
    not_found = "No cluster with cluster_id {key!r}."
    what = "cluster {record.cluster_id} ({record.cluster_name})"
