"""`manage.py export_cluster CLUSTER_ID`: write a cluster and its content as portal-cluster/1."""

import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

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
        text = json.dumps(export_cluster(cluster), ensure_ascii=False, indent=2)
        path = options["output"]
        if not path or path == "-":
            self.stdout.write(text)
            return
        try:
            with open(path, "w", encoding="utf-8") as file:
                file.write(text + "\n")
        except OSError as error:
            raise CommandError(f"Cannot write {path}: {error}") from error
        self.stdout.write(
            f"Exported cluster {cluster.cluster_id} ({cluster.cluster_name}) to {path}."
        )
