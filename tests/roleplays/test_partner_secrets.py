"""A partner's JWT launch secret set through portal.partners.secrets: the previous secret is
accepted while the grace period lasts and refused after; a short one is refused as the admin
refuses it; every change is in the audit log, without the secret."""

import json
import time
from datetime import timedelta

import jwt
import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portal.audit.models import AuditEntry
from portal.partners import secrets
from portal.partners.models import Partner
from portal.roleplays.launch import LaunchError, verify_launch_token
from portal.roleplays.models import Assessment
from tests.factories import make_cluster

pytestmark = pytest.mark.django_db

CLUSTER = "test-cl-001"
LAUNCH_PATH = "/api/integration/assessment-launch"
SHARED_SECRET = "shared-q3-integration-secret-0123456789"


@pytest.fixture
def staff_member(db) -> User:
    return User.objects.create(username="ops", is_staff=True, is_superuser=True)


@pytest.fixture
def q3(outbound_loopback) -> Partner:
    _, partner, _ = make_cluster(partner_hosts="127.0.0.1")
    partner.base_url = "http://127.0.0.1:9"
    partner.save()
    return partner


@pytest.fixture
def outbound_loopback(settings):
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    return settings


def token(secret: str, **extra) -> str:
    """A launch token as the partner's server mints it (extra claims make it another token)."""
    now = int(time.time())
    claims = {"user_id": "EMP_789", "assessment_cluster_id": CLUSTER, "iat": now, "exp": now + 600}
    return jwt.encode(claims | extra, secret, algorithm="HS256")


def accepted(secret: str) -> Partner:
    partner, _ = verify_launch_token(token=token(secret), cluster_id=CLUSTER)
    return partner


def refused(secret: str) -> str:
    with pytest.raises(LaunchError) as error:
        verify_launch_token(token=token(secret), cluster_id=CLUSTER)
    return error.value.code


def end_grace_by_the_clock(partner: Partner) -> None:
    """The grace period runs out: its end moves into the past (the clock is ours)."""
    Partner.objects.filter(pk=partner.pk).update(
        previous_jwt_secret_expires_at=timezone.now() - timedelta(seconds=1)
    )


def test_the_previous_secret_launches_during_the_grace_period_and_not_after(q3, staff_member):
    old = q3.jwt_secret
    new = "n" * 48

    assert secrets.partner_set_jwt_secret(partner=q3, actor=staff_member, secret=new) == new

    assert accepted(new) == q3 and accepted(old) == q3
    end_grace_by_the_clock(q3)
    assert accepted(new) == q3
    assert refused(old) == "INVALID_TOKEN"


def test_a_launch_over_http_with_the_previous_secret_opens_the_assessment(
    q3, staff_member, client: Client
):
    old = q3.jwt_secret
    secrets.partner_set_jwt_secret(partner=q3, actor=staff_member)
    body = {
        "user_id": "EMP_789",
        "user_name": "johndoe",
        "assessment_cluster_id": CLUSTER,
        "auth_token": token(old),
        "return_url": "http://127.0.0.1:9/dashboard",
    }

    response = client.post(LAUNCH_PATH, body, content_type="application/json")

    assert response.status_code == 200, response.content
    assert Assessment.objects.get().results_url_is_default
    end_grace_by_the_clock(q3)
    body["auth_token"] = token(old, jti="second-launch")
    response = client.post(LAUNCH_PATH, body, content_type="application/json")
    assert response.status_code == 401 and response.json()["error_code"] == "INVALID_TOKEN"


def test_without_a_grace_period_the_old_secret_stops_at_once(q3, staff_member):
    old = q3.jwt_secret
    new = secrets.partner_set_jwt_secret(partner=q3, actor=staff_member, grace=timedelta(0))
    assert accepted(new) == q3 and refused(old) == "INVALID_TOKEN"


def test_ending_the_grace_period_stops_the_previous_jwt_secret(q3, staff_member):
    old = q3.jwt_secret
    secrets.partner_set_jwt_secret(partner=q3, actor=staff_member, grace=timedelta(days=7))

    secrets.partner_end_grace(partner=q3, actor=staff_member)

    assert refused(old) == "INVALID_TOKEN"
    assert q3.jwt_grace_ends_at is None and q3.jwt_secrets == (q3.jwt_secret,)


def test_a_generated_secret_is_strong_and_launches(q3, staff_member, settings):
    first = secrets.partner_set_jwt_secret(partner=q3, actor=staff_member)
    second = secrets.partner_set_jwt_secret(partner=q3, actor=staff_member)

    assert first != second
    assert len(second.encode()) >= max(settings.MIN_JWT_SECRET_BYTES, 48)
    assert accepted(second) == q3
    # Only one previous secret: the one before the last change.
    assert q3.jwt_secrets == (second, first)


def test_a_short_secret_is_refused_as_partner_clean_refuses_it(q3, staff_member):
    old = q3.jwt_secret
    with pytest.raises(ValidationError) as by_service:
        secrets.partner_set_jwt_secret(partner=q3, actor=staff_member, secret="short")
    q3.jwt_secret = "short"
    with pytest.raises(ValidationError) as by_model:
        q3.full_clean()

    assert by_service.value.messages == by_model.value.message_dict["jwt_secret"]
    assert "Too short: 5 bytes" in by_service.value.messages[0]
    q3.refresh_from_db()
    assert q3.jwt_secret == old and not AuditEntry.objects.exists()


def test_a_partner_on_the_shared_secret_keeps_it_during_the_grace(q3, staff_member, settings):
    settings.Q3_INTEGRATION_SECRET = SHARED_SECRET
    Partner.objects.filter(pk=q3.pk).update(jwt_secret="")
    q3.refresh_from_db()
    assert accepted(SHARED_SECRET) == q3

    own = secrets.partner_set_jwt_secret(partner=q3, actor=staff_member)

    assert accepted(own) == q3 and accepted(SHARED_SECRET) == q3
    end_grace_by_the_clock(q3)
    assert refused(SHARED_SECRET) == "INVALID_TOKEN"


def test_the_audit_log_keeps_the_change_and_the_grace_but_no_secret(q3, staff_member):
    old = q3.jwt_secret

    new = secrets.partner_set_jwt_secret(partner=q3, actor=staff_member)

    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor, entry.target_id) == (
        "partner.set_jwt_secret",
        staff_member,
        str(q3.pk),
    )
    assert {"jwt_secret", "previous_jwt_secret", "jwt_grace_ends_at"} <= set(entry.changes)
    logged = json.dumps([entry.changes, entry.note, entry.target_label])
    assert old not in logged and new not in logged


def test_a_new_jwt_secret_set_in_the_admin_goes_through_the_service(q3, staff_member, client):
    old = q3.jwt_secret
    client.force_login(staff_member)
    new = "a" * 40

    response = client.post(
        reverse("admin:partners_partner_change", args=[q3.pk]),
        {
            "name": q3.name,
            "is_active": "on",
            "base_url": q3.base_url,
            "aio_callback_url": "",
            "allowed_hosts": q3.allowed_hosts,
            "clusters": [c.pk for c in q3.clusters.all()],
            "new_jwt_secret": new,
        },
    )

    assert response.status_code == 302, response.content
    q3.refresh_from_db()
    assert q3.jwt_secret == new and q3.jwt_secrets == (new, old)
    assert AuditEntry.objects.get().action == "partner.set_jwt_secret"
