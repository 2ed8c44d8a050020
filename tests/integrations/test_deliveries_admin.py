"""The staff view of deliveries: list, filters, read-only attempts, Replay (action and button)."""

import pytest
from django.contrib.auth.models import Permission, User
from django.templatetags.static import static
from django.urls import reverse

from integrations.deliveries import attempt_delivery
from integrations.models import Delivery

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:integrations_delivery_changelist")


@pytest.fixture
def admin_client(client):
    """A superuser's browser (no password: hashing one costs a second per test)."""
    client.force_login(User.objects.create(username="admin", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def staff_member(client):
    """Staff who may look at deliveries but not replay them."""
    user = User.objects.create(username="viewer", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_delivery"))
    client.force_login(user)
    return client


@pytest.fixture
def dead(partner, make_delivery, outbound) -> Delivery:
    delivery = make_delivery(partner.url("/gone"))
    attempt_delivery(delivery.pk)
    delivery.refresh_from_db()
    return delivery


def test_the_list_shows_kind_target_status_and_attempts(admin_client, dead, make_delivery):
    make_delivery("https://q3.example.com/api/receive-cluster-metadata", kind="cluster_metadata")

    page = admin_client.get(CHANGELIST).content.decode()

    assert "results_submission" in page and "cluster_metadata" in page
    assert dead.target_url in page and "dead" in page
    filtered = admin_client.get(CHANGELIST, {"status__exact": "dead"}).content.decode()
    assert dead.target_url in filtered and "receive-cluster-metadata" not in filtered
    assert admin_client.get(CHANGELIST, {"q": "cluster-metadata"}).status_code == 200


def test_the_page_shows_attempts_payload_and_no_secret(admin_client, dead):
    url = reverse("admin:integrations_delivery_change", args=[dead.pk])

    page = admin_client.get(url).content.decode()

    assert "HTTP 410 Gone" in page  # the attempt inline and last_error
    assert "EMP_789" in page  # the payload
    assert dead.signing_secret not in page
    assert "Replay" in page
    assert 'name="_save"' not in page  # read-only


def test_the_replay_button_sends_it_again(admin_client, dead, queue, partner):
    url = reverse("admin:integrations_delivery_replay", args=[dead.pk])

    response = admin_client.post(url, follow=True)

    assert response.status_code == 200
    assert "queued for replay" in response.content.decode()
    dead.refresh_from_db()
    assert dead.status == "pending" and dead.attempt_count == 0
    attempt_delivery(dead.pk)
    assert len(partner.received()) == 2


def test_replay_is_post_only(admin_client, dead):
    url = reverse("admin:integrations_delivery_replay", args=[dead.pk])
    assert admin_client.get(url).status_code == 405


def test_the_replay_action_replays_delivered_and_dead_and_skips_pending(
    admin_client, dead, partner, make_delivery
):
    pending = make_delivery(partner.url("/ok"))

    response = admin_client.post(
        CHANGELIST,
        {"action": "replay", "_selected_action": [dead.pk, pending.pk]},
        follow=True,
    )

    page = response.content.decode()
    assert "1 delivery(ies) queued for replay. 1 still pending were left alone." in page
    dead.refresh_from_db()
    assert dead.status == "pending"


def test_staff_without_the_change_permission_can_look_but_not_replay(staff_member, dead):
    page = staff_member.get(reverse("admin:integrations_delivery_change", args=[dead.pk]))
    assert page.status_code == 200 and "Replay</button>" not in page.content.decode()

    url = reverse("admin:integrations_delivery_replay", args=[dead.pk])
    assert staff_member.post(url).status_code == 403
    dead.refresh_from_db()
    assert dead.status == "dead"


def test_the_page_has_no_inline_style_for_the_csp_to_refuse(admin_client, dead):
    url = reverse("admin:integrations_delivery_change", args=[dead.pk])

    response = admin_client.get(url)
    page = response.content.decode()

    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "Replay" in page and "EMP_789" in page
    assert "style=" not in page and "<style" not in page
    assert 'class="delivery-json"' in page and 'class="delivery-replay"' in page
    stylesheet = static("integrations/delivery_admin.css")
    assert stylesheet in page
    served = admin_client.get(stylesheet)
    assert served.status_code == 200
    assert b"pre.delivery-json" in b"".join(served.streaming_content)
