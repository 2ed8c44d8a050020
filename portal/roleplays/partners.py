"""Creating and editing roleplay partners, and pushing them cluster metadata; each change writes
its audit row in its transaction.

Here, in the roleplays app, because giving a partner clusters sends it their metadata: the
partners app knows nothing of clusters' content, so that roleplays (launch, results routes)
import partners and never the other way round.

A partner given a cluster is sent that cluster's metadata (seed 000), as the admin does; the
deliveries are routed ("partner:<id>:metadata"), so they follow the partner's URL and secrets
at the time they are sent. Secret rotation is in portal.partners.secrets.
"""

from collections.abc import Iterable

from django.db import transaction

from portal.audit import log
from portal.db import unique_or_invalid
from portal.partners.models import Partner
from portal.roleplays.models import Cluster
from portal.roleplays.services import push_cluster_metadata

# What the log keeps of a partner's settings (secrets only as "changed": masked by name).
AUDITED_FIELDS = (
    "name",
    "base_url",
    "aio_callback_url",
    "allowed_hosts",
    "is_active",
    "clusters",
)


def queue_metadata(partner: Partner, clusters: Iterable[Cluster]) -> int:
    """One metadata delivery per cluster, to an active partner only."""
    if not partner.is_active:
        return 0
    return sum(push_cluster_metadata(cluster, [partner]) for cluster in clusters)


def partner_create(
    *,
    name: str,
    base_url: str,
    actor,
    aio_callback_url: str = "",
    allowed_hosts: str = "",
    is_active: bool = True,
    clusters: Iterable[Cluster] = (),
) -> Partner:
    """A new partner with a generated webhook secret (read it from the result to show it once);
    its clusters' metadata is queued for it when it is active. ValidationError when another
    partner took the name meanwhile."""
    clusters = list(clusters)
    with unique_or_invalid(Partner, "name", name), transaction.atomic():
        partner = Partner.objects.create(
            name=name,
            base_url=base_url,
            aio_callback_url=aio_callback_url,
            allowed_hosts=allowed_hosts,
            is_active=is_active,
        )
        partner.clusters.set(clusters)
        queued = queue_metadata(partner, clusters)
        log.record(
            actor=actor,
            action="partner.create",
            target=partner,
            after=log.snapshot(partner, AUDITED_FIELDS) | {"webhook_secret": "new"},
            note=f"cluster metadata queued: {queued}" if queued else "",
        )
    return partner


def partner_update(
    *,
    partner: Partner,
    actor,
    name: str,
    base_url: str,
    aio_callback_url: str,
    allowed_hosts: str,
    is_active: bool,
    clusters: Iterable[Cluster],
) -> int:
    """Change a partner's settings and clusters; return how many clusters' metadata was queued
    (those newly given to it, when it is active). Nothing is written when nothing changed.
    ValidationError when another partner took the name meanwhile."""
    clusters = list(clusters)
    with unique_or_invalid(Partner, "name", name, pk=partner.pk), transaction.atomic():
        partner = Partner.objects.select_for_update().get(pk=partner.pk)
        before = log.snapshot(partner, AUDITED_FIELDS)
        had = set(partner.clusters.values_list("pk", flat=True))
        partner.name, partner.base_url = name, base_url
        partner.aio_callback_url, partner.allowed_hosts = aio_callback_url, allowed_hosts
        partner.is_active = is_active
        partner.save(
            update_fields=["name", "base_url", "aio_callback_url", "allowed_hosts", "is_active"]
        )
        partner.clusters.set(clusters)
        queued = queue_metadata(partner, [c for c in clusters if c.pk not in had])
        after = log.snapshot(partner, AUDITED_FIELDS)
        if before != after:
            log.record(
                actor=actor,
                action="partner.update",
                target=partner,
                before=before,
                after=after,
                note=f"cluster metadata queued: {queued}" if queued else "",
            )
    return queued


def partner_push_metadata(*, partner: Partner, actor) -> int:
    """Queue every cluster of the partner's metadata to it now, one delivery each; return how
    many (0 for an inactive partner, which is sent nothing)."""
    with transaction.atomic():
        queued = queue_metadata(partner, partner.clusters.order_by("cluster_name", "pk"))
        if queued:
            log.record(
                actor=actor,
                action="partner.push_metadata",
                target=partner,
                note=f"cluster metadata queued: {queued}",
            )
    return queued
