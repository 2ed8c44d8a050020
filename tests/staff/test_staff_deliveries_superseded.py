"""The console's deliveries page with superseded deliveries (a newer one of the same group
replaced them): filtered and labelled as such, never offered for sending again."""

import json

import pytest
from huey.contrib.djhuey import HUEY
from huey.storage import MemoryStorage

from integrations.models import Delivery
from portal.partners.models import Partner

Status = Delivery.Status


@pytest.fixture(autouse=True)
def queue(monkeypatch):
    monkeypatch.setattr(HUEY, "storage", MemoryStorage(HUEY.name))
    return HUEY


@pytest.fixture
def metadata(db) -> dict[str, Delivery]:
    """Cluster metadata for Q3 three times: the first delivered, the second superseded while it
    waited to retry, the third pending."""
    q3 = Partner.objects.create(name="Q3 HR", base_url="https://q3.example.com")

    def make(version: int, **fields) -> Delivery:
        return Delivery.objects.create(
            kind="cluster_metadata_sync",
            target_url="https://q3.example.com/api/receive-cluster-metadata",
            payload=json.dumps({"cluster_id": "b4bf406c-4f9", "version": version}),
            route=f"partner:{q3.pk}:metadata",
            group_key="cluster:b4bf406c-4f9",
            **fields,
        )

    newest = make(3)
    delivered = make(1, status=Status.DELIVERED, superseded_by=newest)
    superseded = make(
        2,
        status=Status.SUPERSEDED,
        superseded_by=newest,
        attempt_count=1,
        next_attempt_at=None,
        last_error=f"Superseded by #{newest.pk}, a newer cluster_metadata_sync of the same group.",
    )
    return {"delivered": delivered, "superseded": superseded, "newest": newest}


def test_the_list_filters_and_labels_superseded_deliveries(viewer_client, metadata):
    page = viewer_client.get("/staff/deliveries/", {"state": "superseded"}).content.decode()
    assert f'href="/staff/deliveries/{metadata["superseded"].pk}/"' in page
    assert f'href="/staff/deliveries/{metadata["newest"].pk}/"' not in page
    assert '<span class="badge superseded">superseded</span>' in page
    assert 'value="superseded" selected' in page


def test_a_superseded_delivery_names_the_newer_one_and_offers_no_sending(operator_client, metadata):
    superseded, newest = metadata["superseded"], metadata["newest"]
    page = operator_client.get(f"/staff/deliveries/{superseded.pk}/").content.decode()
    assert f'href="/staff/deliveries/{newest.pk}/"' in page
    assert "never sent again" in page
    assert "Send now" not in page and "Replay</button>" not in page
    assert "cluster:b4bf406c-4f9" in page

    older = operator_client.get(f"/staff/deliveries/{metadata['delivered'].pk}/").content.decode()
    assert "Replay</button>" not in older, "replaying older metadata would send stale data"


@pytest.mark.parametrize("action", ["send-now", "replay"])
def test_sending_a_superseded_delivery_is_refused_with_the_reason(
    operator_client, metadata, action
):
    for name in ("superseded", "delivered"):
        delivery = metadata[name]
        response = operator_client.post(f"/staff/deliveries/{delivery.pk}/{action}/", follow=True)
        assert "newer, of the same group replaced it" in response.content.decode()
        assert "A worker is sending it right now" not in response.content.decode()
        delivery.refresh_from_db()
        assert delivery.status == metadata[name].status


def test_a_bulk_replay_leaves_superseded_ones_alone(operator_client, metadata):
    query = "kind=cluster_metadata_sync"
    confirm = operator_client.post(f"/staff/deliveries/replay/?{query}")
    html = confirm.content.decode()
    assert "These filters select no delivered or dead delivery" in html
    assert "2 superseded deliveries are left alone" in html
    operator_client.post(f"/staff/deliveries/replay/?{query}", {"confirm": "yes"})
    statuses = {name: Delivery.objects.get(pk=d.pk).status for name, d in metadata.items()}
    assert statuses == {"delivered": "delivered", "superseded": "superseded", "newest": "pending"}
