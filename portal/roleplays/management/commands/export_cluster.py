"""`manage.py export_cluster CLUSTER_ID`: write a cluster and its content as portal-cluster/1."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.documents import write_document
from portal.roleplays.models import Cluster
from portal.roleplays.transfer import export_cluster


class Command(BaseCommand):
    help = (
        "Write a roleplay cluster and all its content as portal-cluster/1 JSON (stdout by default)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("cluster_id", metavar="CLUSTER_ID", help="The cluster's cluster_id.")
        parser.add_argument(
            "-o", "--output", metavar="FILE", help="Write to FILE instead of stdout."
        )

    def handle(self, *args, **options) -> None:
        cluster = Cluster.objects.filter(cluster_id=options["cluster_id"]).first()
        if cluster is None:
            raise CommandError(f"No cluster with cluster_id {options['cluster_id']!r}.")
        write_document(
            self,
            export_cluster(cluster),
            options["output"],
            what=f"cluster {cluster.cluster_id} ({cluster.cluster_name})",
        )
