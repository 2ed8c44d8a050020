"""A partner given a cluster in the admin is sent that cluster's metadata (seed 000); the push
lives with the roleplays (portal/roleplays/admin.py), so that partners import nothing of them."""

import pytest
from django.urls import reverse

from integrations.models import Delivery
from tests.factories import make_cluster

pytestmark = pytest.mark.django_db


def change_page_post(client, partner, clusters):
    return client.post(
        reverse("admin:partners_partner_change", args=[partner.pk]),
        {
            "name": partner.name,
            "is_active": "on",
            "base_url": partner.base_url,
            "aio_callback_url": "",
            "allowed_hosts": partner.allowed_hosts,
            "clusters": [cluster.pk for cluster in clusters],
        },
    )


def test_a_cluster_newly_given_in_the_admin_sends_its_metadata_once(settings, superuser_client):
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    client = superuser_client
    cluster, partner, _ = make_cluster(partner_hosts="127.0.0.1")
    partner.base_url = "http://127.0.0.1:9"
    partner.save()
    partner.clusters.clear()

    given = change_page_post(client, partner, [cluster])
    assert given.status_code == 302, given.content
    metadata = Delivery.objects.filter(kind="cluster_metadata_sync")
    assert metadata.count() == 1
    assert metadata.get().target_url == partner.metadata_url()

    # Saved again with the same cluster: nothing new to send.
    again = change_page_post(client, partner, [cluster])
    assert again.status_code == 302
    assert metadata.count() == 1
