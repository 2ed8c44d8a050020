"""Partners in the console: who may do what, create and edit (clusters queue their metadata),
webhook and JWT secrets rotated with a grace period and shown once, metadata pushed now."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from openpyxl import load_workbook

from integrations.deliveries import enqueue_delivery
from integrations.models import Delivery
from portal.audit.models import AuditEntry
from portal.partners.models import Partner
from portal.roleplays.models import Cluster
from tests.factories import make_small_cluster, queries_of

HTMX = {"HX-Request": "true"}
DAY = 24 * 3600
WHSEC = re.compile(r"whsec_[A-Za-z0-9+/=]+")


def html_of(response) -> str:
    return response.content.decode()


def once_blocks(html: str) -> list[str]:
    return re.findall(r'<div class="secret-once".*?</div>', html, re.S)


def csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture
def leadership(db) -> Cluster:
    return make_small_cluster("cl-leadership", cluster_name="Leadership", with_roleplay=False)


@pytest.fixture
def sales(db) -> Cluster:
    return make_small_cluster("cl-sales", cluster_name="Sales", with_roleplay=False)


@pytest.fixture
def q3(db, leadership) -> Partner:
    partner = Partner.objects.create(
        name="Q3", base_url="https://q3.example.com", allowed_hosts="hr.example.com"
    )
    partner.clusters.add(leadership)
    return partner


def metadata_deliveries(partner: Partner):
    return Delivery.objects.filter(
        kind="cluster_metadata_sync", route=f"partner:{partner.pk}:metadata"
    )


def queue_delivery(partner: Partner, status: str) -> Delivery:
    with transaction.atomic():
        delivery = enqueue_delivery(
            kind="results_submission",
            target_url=partner.default_results_url(),
            payload={"n": 1},
            signing_secret=partner.webhook_secret,
            route=f"partner:{partner.pk}:results",
        )
    Delivery.objects.filter(pk=delivery.pk).update(status=status)
    return delivery


# --- who may do what


def action_requests(partner: Partner) -> list[tuple[str, str]]:
    base = f"/staff/partners/{partner.pk}"
    return [
        ("get", "/staff/partners/new/"),
        ("post", "/staff/partners/new/"),
        ("get", f"{base}/edit/"),
        ("post", f"{base}/edit/"),
        ("post", f"{base}/webhook-secret/"),
        ("post", f"{base}/jwt-secret/"),
        ("post", f"{base}/end-grace/"),
        ("post", f"{base}/push-metadata/"),
    ]


@pytest.mark.parametrize("who", ["viewer_client", "author_client", "outsider_client"])
def test_actions_are_refused_to_everyone_but_operators(request, who, q3):
    client = request.getfixturevalue(who)
    before = Partner.objects.values().get(pk=q3.pk)
    for method, url in action_requests(q3):
        data = {"name": "Hacked", "base_url": "https://evil.example", "webhook-grace": DAY}
        response = getattr(client, method)(url, data if method == "post" else {})
        assert response.status_code == 403, (method, url)
    assert Partner.objects.values().get(pk=q3.pk) == before
    assert not Delivery.objects.exists() and not AuditEntry.objects.exists()


def test_anonymous_is_sent_to_sign_in(client, q3):
    for method, url in [("get", "/staff/partners/"), ("get", f"/staff/partners/{q3.pk}/")]:
        assert getattr(client, method)(url).status_code == 302
    for method, url in action_requests(q3):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and "/staff/login/" in response["Location"]


def test_viewer_reads_the_partner_without_its_secrets_or_buttons(viewer_client, q3):
    q3.jwt_secret = "j" * 40
    q3.save()
    html = html_of(viewer_client.get(f"/staff/partners/{q3.pk}/"))
    assert "Leadership" in html and "https://q3.example.com/api/receive-cluster-metadata" in html
    assert q3.webhook_secret not in html and q3.jwt_secret not in html
    assert "Rotate webhook secret" not in html and "Push cluster metadata now" not in html


# --- the list


def test_list_shows_secrets_kind_grace_and_delivery_counts(viewer_client, q3, settings, sales):
    settings.Q3_INTEGRATION_SECRET = "s" * 40
    q3.jwt_secret = "j" * 40
    q3.previous_webhook_secret = "whsec_b2xk"
    q3.previous_webhook_secret_expires_at = timezone.now() + timedelta(hours=5)
    q3.save()
    other = Partner.objects.create(name="Other HR", base_url="https://other.example.com")
    other.clusters.add(sales)
    queue_delivery(q3, "pending")
    queue_delivery(q3, "dead")
    queue_delivery(q3, "dead")
    queue_delivery(other, "delivered")

    html = html_of(viewer_client.get("/staff/partners/"))
    row = re.search(r"<tr>\s*<td><a[^>]*>Q3</a>.*?</tr>", html, re.S).group(0)
    assert "badge ok" in row and ">own<" in row and "in grace" in row
    assert f'href="/staff/deliveries/?partner={q3.pk}&amp;state=pending">1</a>' in row
    assert f'href="/staff/deliveries/?partner={q3.pk}&amp;state=dead">2</a>' in row
    other_row = re.search(r"<tr>\s*<td><a[^>]*>Other HR</a>.*?</tr>", html, re.S).group(0)
    assert ">shared<" in other_row and "Sales" in other_row and "in grace" not in other_row
    assert q3.webhook_secret not in html and q3.jwt_secret not in html

    assert "Other HR" not in html_of(viewer_client.get("/staff/partners/?q=q3.example"))
    html = html_of(viewer_client.get("/staff/partners/?sort=-dead"))
    assert html.index(">Q3<") < html.index(">Other HR<")
    partial = html_of(viewer_client.get("/staff/partners/?active=yes", headers=HTMX))
    assert partial.lstrip().startswith('<section id="results"') and "<html" not in partial


def test_list_exports_filtered_rows_without_secrets(viewer_client, q3):
    q3.jwt_secret = "j" * 40
    q3.save()
    Partner.objects.create(name="Gone", base_url="https://gone.example.com", is_active=False)
    rows = csv_rows(viewer_client.get("/staff/partners/?active=yes&export=csv"))
    assert rows[0][:5] == ["Name", "Active", "Base URL", "Clusters", "JWT secret"]
    assert [row[0] for row in rows[1:]] == ["Q3"]
    assert rows[1][3:5] == ["Leadership", "own"]
    response = viewer_client.get("/staff/partners/?export=xlsx")
    values = list(load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.values)
    assert len(values) == 3
    everything = str(rows) + str(values)
    assert q3.webhook_secret not in everything and q3.jwt_secret not in everything


def test_list_queries_do_not_grow_with_rows(viewer_client, leadership, sales):
    def count_for(rows: int) -> int:
        Partner.objects.all().delete()
        for n in range(rows):
            partner = Partner.objects.create(name=f"P{n:03}", base_url=f"https://p{n}.example")
            partner.clusters.add(leadership, sales)
        queue_delivery(partner, "dead")
        return queries_of(viewer_client, "/staff/partners/")

    assert count_for(10) == count_for(200)


# --- create and edit


def test_operator_creates_a_partner_whose_webhook_secret_is_shown_once(
    operator_client, operator, leadership, sales
):
    response = operator_client.post(
        "/staff/partners/new/",
        {
            "name": "Q3 HR",
            "base_url": "https://q3.example.com",
            "allowed_hosts": "hr.example.com",
            "is_active": "on",
            "clusters": [leadership.pk, sales.pk],
        },
    )
    partner = Partner.objects.get(name="Q3 HR")
    assert response.status_code == 302
    assert response["Location"] == f"/staff/partners/{partner.pk}/"
    assert partner.webhook_secret.startswith("whsec_") and partner.jwt_secret == ""

    html = html_of(operator_client.get(response["Location"]))
    [block] = once_blocks(html)
    assert partner.webhook_secret in block
    assert "Metadata of 2 clusters queued for it." in html
    assert partner.webhook_secret not in html_of(operator_client.get(response["Location"]))

    assert metadata_deliveries(partner).count() == 2
    entry = AuditEntry.objects.get(action="partner.create")
    assert entry.actor == operator
    assert entry.changes["clusters"][1] == sorted([str(leadership), str(sales)])
    assert partner.webhook_secret not in str(entry.changes)


def test_create_refuses_a_bad_url_and_a_taken_name(operator_client, q3):
    response = operator_client.post(
        "/staff/partners/new/", {"name": "Q3", "base_url": "not a url", "is_active": "on"}
    )
    html = html_of(response)
    assert response.status_code == 200
    assert "Partner with this Name already exists." in html
    assert "Enter a valid URL." in html
    assert Partner.objects.count() == 1 and not AuditEntry.objects.exists()


def test_create_refuses_a_name_that_shows_nothing(operator_client, q3):
    response = operator_client.post(
        "/staff/partners/new/",
        {"name": "\u200b\u200e", "base_url": "https://new.example.com", "is_active": "on"},
    )
    assert response.status_code == 200
    assert "This must show something, not only spaces or invisible characters." in html_of(response)
    assert Partner.objects.count() == 1 and not AuditEntry.objects.exists()


@pytest.fixture
def name_check_missed(monkeypatch):
    """The form's unique-name check passes as if another request (a double click) had not yet
    created its partner: the insert then meets the database's constraint."""
    from portal.staff.views.partners import PartnerForm

    monkeypatch.setattr(PartnerForm, "validate_unique", lambda form: None)


def test_create_racing_another_with_the_same_name_says_the_name_is_taken(
    operator_client, q3, name_check_missed
):
    response = operator_client.post(
        "/staff/partners/new/",
        {"name": "Q3", "base_url": "https://q3.example.com", "is_active": "on"},
    )
    assert response.status_code == 200
    assert "Partner with this Name already exists." in html_of(response)
    assert Partner.objects.count() == 1 and not AuditEntry.objects.exists()


def test_renaming_racing_another_to_the_same_name_says_the_name_is_taken(
    operator_client, q3, name_check_missed
):
    other = Partner.objects.create(name="Other", base_url="https://other.example.com")
    response = operator_client.post(
        f"/staff/partners/{other.pk}/edit/",
        {"name": "Q3", "base_url": "https://other.example.com", "is_active": "on"},
    )
    assert response.status_code == 200
    assert "Partner with this Name already exists." in html_of(response)
    other.refresh_from_db()
    assert other.name == "Other" and not AuditEntry.objects.exists()


def test_edit_audits_the_diff_and_queues_metadata_of_added_clusters_only(
    operator_client, q3, leadership, sales
):
    url = f"/staff/partners/{q3.pk}/edit/"
    form = html_of(operator_client.get(url))
    assert 'value="https://q3.example.com"' in form and 'name="clusters"' in form
    assert "webhook_secret" not in form and "jwt_secret" not in form

    response = operator_client.post(
        url,
        {
            "name": "Q3",
            "base_url": "https://new-q3.example.com",
            "aio_callback_url": "",
            "allowed_hosts": "hr.example.com",
            "is_active": "on",
            "clusters": [leadership.pk, sales.pk],
        },
        follow=True,
    )
    assert "Partner Q3 saved. Metadata of 1 cluster queued for it." in html_of(response)
    [delivery] = metadata_deliveries(q3)
    assert '"cluster_id":"cl-sales"' in delivery.payload
    assert delivery.target_url == "https://new-q3.example.com/api/receive-cluster-metadata"
    entry = AuditEntry.objects.get(action="partner.update")
    assert entry.changes["base_url"] == ["https://q3.example.com", "https://new-q3.example.com"]
    assert entry.changes["clusters"] == [[str(leadership)], sorted([str(leadership), str(sales)])]
    assert set(entry.changes) == {"base_url", "clusters"}


def test_an_inactive_partner_is_sent_nothing(operator_client, q3, sales):
    operator_client.post(
        f"/staff/partners/{q3.pk}/edit/",
        {"name": "Q3", "base_url": q3.base_url, "clusters": [sales.pk]},  # is_active unticked
    )
    q3.refresh_from_db()
    assert not q3.is_active and list(q3.clusters.all()) == [sales]
    assert not metadata_deliveries(q3).exists()
    response = operator_client.post(f"/staff/partners/{q3.pk}/push-metadata/", follow=True)
    assert "Q3 is inactive: nothing was sent." in html_of(response)
    assert not metadata_deliveries(q3).exists()


def test_saving_unchanged_writes_no_audit_row(operator_client, q3, leadership):
    operator_client.post(
        f"/staff/partners/{q3.pk}/edit/",
        {
            "name": q3.name,
            "base_url": q3.base_url,
            "allowed_hosts": q3.allowed_hosts,
            "is_active": "on",
            "clusters": [leadership.pk],
        },
    )
    assert not AuditEntry.objects.exists() and not Delivery.objects.exists()


# --- secrets


def test_a_second_rotation_during_the_grace_says_it_stops_the_previous_secret_now(
    operator_client, q3, settings
):
    settings.Q3_INTEGRATION_SECRET = "shared-" + "s" * 40
    page = f"/staff/partners/{q3.pk}/"
    html = html_of(operator_client.get(page))
    assert 'id="webhook-rotate-again"' not in html and 'id="jwt-set-again"' not in html
    assert "Rotate the webhook secret? The partner must switch" in html
    operator_client.post(f"{page}webhook-secret/", {"webhook-grace": 3600})
    operator_client.post(f"{page}jwt-secret/", {"jwt-secret": "", "jwt-grace": DAY})
    html = html_of(operator_client.get(page))
    assert "rotating again stops the previous secret at once" in html
    assert "Rotate the webhook secret again? The previous secret stops signing now" in html
    assert "setting a secret again stops accepting tokens signed with the previous one" in html


def test_rotating_the_webhook_secret_keeps_the_old_one_signing_for_the_grace(
    operator_client, operator, q3
):
    old = q3.webhook_secret
    page = f"/staff/partners/{q3.pk}/"
    response = operator_client.post(f"{page}webhook-secret/", {"webhook-grace": 3600})
    assert response.status_code == 302 and response["Location"] == page

    q3.refresh_from_db()
    assert q3.webhook_secret != old and q3.previous_webhook_secret == old
    assert q3.webhook_secrets == (q3.webhook_secret, old)
    ends = q3.webhook_grace_ends_at
    assert timedelta(minutes=59) < ends - timezone.now() <= timedelta(hours=1)

    html = html_of(operator_client.get(page))
    [block] = once_blocks(html)
    assert WHSEC.search(block).group(0) == q3.webhook_secret
    assert "The old secret still signs, beside the new one, until" in block
    assert old not in html
    reload = html_of(operator_client.get(page))
    assert q3.webhook_secret not in reload and "The previous secret also signs until" in reload

    entry = AuditEntry.objects.get(action="partner.rotate_webhook_secret")
    assert entry.actor == operator and "webhook_secret" in entry.changes
    assert old not in str(entry.changes) and q3.webhook_secret not in str(entry.changes)


def test_rotating_without_grace_stops_the_old_secret_at_once(operator_client, q3):
    old = q3.webhook_secret
    response = operator_client.post(
        f"/staff/partners/{q3.pk}/webhook-secret/", {"webhook-grace": 0}, follow=True
    )
    q3.refresh_from_db()
    assert q3.webhook_secrets == (q3.webhook_secret,) and q3.webhook_secret != old
    assert "Only this secret signs from now on." in html_of(response)


def test_rotating_with_htmx_swaps_the_page_body_with_the_secret(operator_client, q3):
    response = operator_client.post(
        f"/staff/partners/{q3.pk}/webhook-secret/", {"webhook-grace": DAY}, headers=HTMX
    )
    q3.refresh_from_db()
    html = html_of(response)
    assert html.lstrip().startswith('<div id="partner"')
    assert q3.webhook_secret in once_blocks(html)[0]
    assert 'id="messages"' in html and "New webhook secret for Q3." in html


def test_a_short_jwt_secret_is_refused_with_the_models_message(operator_client, q3):
    try:
        Partner(name="x", base_url="https://x.example", jwt_secret="too-short").full_clean()
    except ValidationError as error:
        [model_message] = error.message_dict["jwt_secret"]
    response = operator_client.post(
        f"/staff/partners/{q3.pk}/jwt-secret/", {"jwt-secret": "too-short", "jwt-grace": DAY}
    )
    assert response.status_code == 400
    assert model_message in html_of(response)
    q3.refresh_from_db()
    assert q3.jwt_secret == "" and not AuditEntry.objects.exists()


def test_a_generated_jwt_secret_is_shown_once_and_a_pasted_one_never(operator_client, q3, settings):
    settings.Q3_INTEGRATION_SECRET = "shared-" + "s" * 40
    page = f"/staff/partners/{q3.pk}/"
    operator_client.post(f"{page}jwt-secret/", {"jwt-secret": "", "jwt-grace": DAY})
    q3.refresh_from_db()
    generated = q3.jwt_secret
    assert len(generated) >= 32
    # The shared secret it used is still accepted during the grace period.
    assert q3.jwt_secrets == (generated, settings.Q3_INTEGRATION_SECRET)
    html = html_of(operator_client.get(page))
    assert generated in once_blocks(html)[0] and "own" in html
    assert generated not in html_of(operator_client.get(page))

    pasted = "p" * 40
    response = operator_client.post(
        f"{page}jwt-secret/", {"jwt-secret": pasted, "jwt-grace": 0}, follow=True
    )
    q3.refresh_from_db()
    assert q3.jwt_secret == pasted and q3.jwt_secrets == (pasted,)
    assert pasted not in html_of(response) and not once_blocks(html_of(response))
    changes = str(list(AuditEntry.objects.values_list("changes", flat=True)))
    assert generated not in changes and pasted not in changes
    assert AuditEntry.objects.filter(action="partner.set_jwt_secret").count() == 2


def test_ending_the_grace_now(operator_client, q3):
    operator_client.post(f"/staff/partners/{q3.pk}/webhook-secret/", {"webhook-grace": DAY})
    html = html_of(operator_client.get(f"/staff/partners/{q3.pk}/"))
    assert "End the grace period now" in html
    response = operator_client.post(f"/staff/partners/{q3.pk}/end-grace/", follow=True)
    q3.refresh_from_db()
    assert q3.webhook_secrets == (q3.webhook_secret,)
    html = html_of(response)
    assert "The previous secrets of Q3 no longer work." in html
    assert "End the grace period now" not in html
    assert AuditEntry.objects.filter(action="partner.end_grace").count() == 1


# --- push cluster metadata now


def test_push_metadata_queues_one_delivery_per_cluster(operator_client, operator, q3, sales):
    q3.clusters.add(sales)
    response = operator_client.post(f"/staff/partners/{q3.pk}/push-metadata/", follow=True)
    assert "Metadata of 2 clusters queued for Q3." in html_of(response)
    deliveries = metadata_deliveries(q3)
    assert deliveries.count() == 2
    assert {d.target_url for d in deliveries} == {
        "https://q3.example.com/api/receive-cluster-metadata"
    }
    entry = AuditEntry.objects.get(action="partner.push_metadata")
    assert entry.actor == operator and entry.note == "cluster metadata queued: 2"
    html = html_of(operator_client.get(f"/staff/partners/{q3.pk}/"))
    assert f'href="/staff/deliveries/?partner={q3.pk}&amp;state=pending">2</a>' in html


def test_push_metadata_with_htmx_and_no_clusters(operator_client, q3):
    q3.clusters.clear()
    html = html_of(operator_client.post(f"/staff/partners/{q3.pk}/push-metadata/", headers=HTMX))
    assert html.lstrip().startswith('<div id="partner"')
    assert "Q3 has no clusters: nothing was sent." in html
    assert not Delivery.objects.exists()


@pytest.mark.parametrize(
    ("path", "data", "field"),
    [
        ("webhook-secret", {"webhook-grace": 0}, "webhook_secret"),
        ("jwt-secret", {"jwt-secret": "", "jwt-grace": 0}, "jwt_secret"),
    ],
)
def test_a_double_clicked_secret_change_acts_once_and_shows_the_secret_in_force(
    operator_client, q3, path, data, field
):
    # Each press rotated, and the page could show the secret the second press had replaced
    # already: launches signed with it were refused, webhooks failed to verify.
    url = f"/staff/partners/{q3.pk}/{path}/"
    page = html_of(operator_client.get(f"/staff/partners/{q3.pk}/"))
    form = re.search(rf'<form[^>]*action="{re.escape(url)}".*?</form>', page, re.S).group(0)
    key = re.search(r'name="once" value="([^"]+)"', form).group(1)
    before = AuditEntry.objects.count()
    first = operator_client.post(url, data | {"once": key})
    q3.refresh_from_db()
    stored = getattr(q3, field)
    again = operator_client.post(url, data | {"once": key})
    assert first.status_code == again.status_code == 302
    q3.refresh_from_db()
    assert getattr(q3, field) == stored and AuditEntry.objects.count() == before + 1
    [block] = once_blocks(html_of(operator_client.get(again["Location"])))
    assert stored in block
