"""`manage.py import_cluster FILE`: load a portal-cluster/1 file as a cluster, or replace one."""

import json
from typing import Any

from django.core.management.base import CommandParser
from django.db import transaction

from portal.documents import ImportCommand
from portal.roleplays.models import Cluster
from portal.roleplays.payloads import cluster_metadata
from portal.roleplays.services import push_cluster_metadata
from portal.roleplays.transfer import import_cluster


class Command(ImportCommand):
    help = (
        "Import a roleplay cluster with all its content from a portal-cluster/1 JSON file (or - "
        "for stdin) and print its cluster_id. A file whose cluster_id exists replaces that "
        "cluster's content (only while it has no assessments) and sends the new metadata to "
        "the partners allowed to launch it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--json",
            action="store_true",
            help='Print {"cluster_id": .., "created": .., ...} instead of the bare cluster_id.',
        )

    def load(self, data: Any, options: dict[str, Any]) -> str:
        cluster_id = data.get("cluster_id") if isinstance(data, dict) else None
        existing = (
            Cluster.objects.filter(cluster_id=cluster_id).first()
            if isinstance(cluster_id, str)
            else None
        )
        before = cluster_metadata(existing) if existing else None
        with transaction.atomic():
            cluster = import_cluster(data)
            # "When cluster created or updated" (seed 000): queued in this transaction, so
            # partners hear of the new content exactly when it is there. A new cluster has
            # no partners yet; unchanged metadata is not sent again.
            partners = []
            if cluster_metadata(cluster) != before:
                partners = list(cluster.partners.filter(is_active=True).order_by("name"))
                push_cluster_metadata(cluster, partners)

        if options["json"]:
            summary = {
                "cluster_id": cluster.cluster_id,
                "cluster_name": cluster.cluster_name,
                "created": existing is None,
                "roleplays": list(
                    cluster.roleplays.order_by("position", "id").values_list(
                        "roleplay_id", flat=True
                    )
                ),
                "metadata_sent_to": [partner.name for partner in partners],
            }
            return json.dumps(summary, ensure_ascii=False)
        return cluster.cluster_id
