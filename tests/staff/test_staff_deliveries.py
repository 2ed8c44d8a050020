"""The console's deliveries: the list (filters, search, sort, export), a delivery's attempts,
send now, replay one, replay a filtered set; viewers read only."""

import csv
import io
import json
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from huey.contrib.djhuey import HUEY
from huey.storage import MemoryStorage
from openpyxl import load_workbook

from integrations.models import Delivery, DeliveryAttempt
from integrations.signing import new_webhook_secret
from portal.audit.models import AuditEntry
from portal.partners.models import Partner
from tests.factories import queries_of

Status = Delivery.Status
Outcome = DeliveryAttempt.Outcome
SECRET = new_webhook_secret()


@pytest.fixture(autouse=True)
def queue(monkeypatch):
    """Huey's queue in memory: what the console enqueued, and nothing shared."""
    monkeypatch.setattr(HUEY, "storage", MemoryStorage(HUEY.name))
    return HUEY


@pytest.fixture
def q3(db) -> Partner:
    return Partner.objects.create(name="Q3 HR", base_url="https://q3.example.com")


@pytest.fixture
def acme(db) -> Partner:
    return Partner.objects.create(name="Acme Talent", base_url="https://acme.example.org")


def make(kind: str = "results_submission", *, partner: Partner | None = None, **fields):
    """A delivery row as the outbox leaves it (no task enqueued)."""
    target = "results" if kind == "results_submission" else "metadata"
    values = {
        "kind": kind,
        "target_url": f"{partner.base_url}/api/receive-{target}" if partner else "https://x.test/",
        "payload": json.dumps({"user_id": "EMP_789", "user_name": "Jóhn"}),
        "signing_secret": SECRET if partner else "",
        "route": f"partner:{partner.pk}:{target}" if partner else "",
    } | fields
    return Delivery.objects.create(**values)


def attempt(delivery: Delivery, outcome: str = Outcome.FAILED, **fields) -> DeliveryAttempt:
    values = {
        "outcome": outcome,
        "status_code": 500,
        "duration_ms": 120,
        "error": "HTTP 500",
        "response_excerpt": "Internal Server Error",
        "target_url": delivery.target_url,
    } | fields
    return DeliveryAttempt.objects.create(delivery=delivery, **values)


@pytest.fixture
def outbox(q3, acme) -> dict[str, Delivery]:
    """One delivery in each state, for two partners and the unrouted transports."""
    now = timezone.now()
    fresh = make(partner=q3, dedupe_key="results:q3:fresh")
    retrying = make(
        partner=q3,
        attempt_count=2,
        last_error="HTTP 500",
        next_attempt_at=now + timedelta(minutes=25),
    )
    attempt(retrying)
    attempt(retrying)
    dead = make(
        "cluster_metadata_sync",
        partner=acme,
        status=Status.DEAD,
        attempt_count=8,
        next_attempt_at=None,
        last_error="HTTP 404 (gave up after 8 attempts)",
        created_at=now - timedelta(days=3),
    )
    attempt(dead, status_code=404, error="HTTP 404", response_excerpt="no such path")
    q3_dead = make(
        partner=q3, status=Status.DEAD, attempt_count=1, next_attempt_at=None, last_error="410"
    )
    synced = make(
        "lead_sync",
        transport=Delivery.Transport.HUBSPOT,
        target_url="https://api.hubapi.com/crm/v3",
        status=Status.DELIVERED,
        attempt_count=1,
        next_attempt_at=None,
        delivered_at=now,
        state={"contact_id": "5001", "deal_id": "5002"},
        created_at=now - timedelta(days=1),
    )
    mailed = make(
        "results_email",
        transport=Delivery.Transport.EMAIL,
        target_url="mailto:ceo@example.com",
        status=Status.DELIVERED,
        attempt_count=1,
        next_attempt_at=None,
        delivered_at=now,
        dedupe_key="scorecard-email:42",
    )
    return {
        "fresh": fresh,
        "retrying": retrying,
        "dead": dead,
        "q3_dead": q3_dead,
        "synced": synced,
        "mailed": mailed,
    }


def listed(client, query: str = "") -> list[int]:
    """The ids the list shows, in order."""
    html = client.get(f"/staff/deliveries/{query}").content.decode()
    return [int(pk) for pk in re.findall(r'href="/staff/deliveries/(\d+)/"', html)]


def ids(*deliveries: Delivery) -> set[int]:
    return {d.pk for d in deliveries}


def csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


# --- the list


def test_list_shows_each_delivery_with_its_partner_and_state(viewer_client, outbox):
    html = viewer_client.get("/staff/deliveries/").content.decode()
    assert set(listed(viewer_client)) == {d.pk for d in outbox.values()}
    assert "Q3 HR" in html and "Acme Talent" in html
    assert "q3.example.com/api/receive-results" in html
    assert '<span class="badge retrying">retrying</span>' in html
    assert '<span class="badge dead">dead</span>' in html
    assert "HubSpot CRM" in html and "e-mail" in html
    assert SECRET not in html


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("pending", {"fresh", "retrying"}),
        ("retrying", {"retrying"}),
        ("dead", {"dead", "q3_dead"}),
        ("delivered", {"synced", "mailed"}),
    ],
)
def test_state_filter(viewer_client, outbox, state, expected):
    assert set(listed(viewer_client, f"?state={state}")) == {outbox[n].pk for n in expected}


def test_transport_kind_date_and_partner_filters(viewer_client, outbox, q3, acme):
    assert set(listed(viewer_client, "?transport=hubspot")) == ids(outbox["synced"])
    assert set(listed(viewer_client, "?kind=cluster_metadata_sync")) == ids(outbox["dead"])
    assert set(listed(viewer_client, f"?partner={q3.pk}")) == ids(
        outbox["fresh"], outbox["retrying"], outbox["q3_dead"]
    )
    assert set(listed(viewer_client, f"?partner={acme.pk}&state=dead")) == ids(outbox["dead"])
    today = timezone.localdate()
    since = (today - timedelta(days=2)).isoformat()
    assert outbox["dead"].pk not in listed(viewer_client, f"?since={since}")
    until = (today - timedelta(days=2)).isoformat()
    assert set(listed(viewer_client, f"?until={until}")) == ids(outbox["dead"])


@pytest.mark.parametrize(
    "query",
    ["?state=sideways", "?partner=987654", "?since=yesterday", "?state=sideways&q=x", "?stat=dead"],
)
def test_a_bad_filter_value_is_reported_and_selects_no_rows(operator_client, outbox, query):
    # Dropping the bad filter would list (and offer to replay) more than was asked for.
    response = operator_client.get(f"/staff/deliveries/{query}")
    html = response.content.decode()
    assert response.status_code == 200
    assert "A filter is not valid, so no rows are shown" in html
    assert listed(operator_client, query) == []
    assert "Replay these" not in html and "export=csv" not in html
    partial = operator_client.get(f"/staff/deliveries/{query}", headers={"HX-Request": "true"})
    assert "A filter is not valid" in partial.content.decode()


def test_a_bad_filter_value_is_named_on_the_form(viewer_client, outbox):
    html = viewer_client.get("/staff/deliveries/?state=sideways").content.decode()
    assert "Select a valid choice. sideways is not one of the available choices." in html
    assert "State: Select a valid choice." in html  # in the results region too (htmx)


def test_a_misspelt_filter_is_named_and_selects_no_rows(operator_client, outbox):
    # Ignored, `stat` listed every delivery, and "Replay these" replayed every dead one.
    html = operator_client.get("/staff/deliveries/?stat=dead&sort=-created").content.decode()
    assert "Filters: Not a filter of this list: stat." in html
    assert listed(operator_client, "?stat=dead") == []
    refused = operator_client.post("/staff/deliveries/replay/?stat=dead", {"confirm": "yes"})
    assert refused.status_code == 400
    assert "Not a filter of this list: stat." in refused.content.decode()
    assert Delivery.objects.filter(status=Status.DEAD).count() == 2


def test_the_refusals_speak_persian(operator_client, outbox):
    operator_client.post("/staff/language/", {"language": "fa", "next": "/staff/deliveries/"})
    html = operator_client.get("/staff/deliveries/?state=sideways").content.decode()
    assert "یکی از فیلترها معتبر نیست، پس هیچ ردیفی نشان داده نمی‌شود" in html
    refused = operator_client.post("/staff/deliveries/replay/?state=sideways").content.decode()
    assert "یکی از فیلترها معتبر نیست: هیچ موردی دوباره ارسال نشد." in refused
    assert "بازگشت به فهرست" in refused
    misspelt = operator_client.get("/staff/deliveries/?stat=dead").content.decode()
    assert "این فهرست چنین فیلتری ندارد: stat." in misspelt


def test_a_bad_filter_value_exports_no_rows(viewer_client, outbox):
    response = viewer_client.get("/staff/deliveries/?state=sideways&export=csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert len(rows) == 1  # the header only


def test_search_over_target_kind_webhook_id_and_dedupe_key(viewer_client, outbox):
    dead = outbox["dead"]
    assert set(listed(viewer_client, f"?q={dead.webhook_id}")) == ids(dead)
    assert set(listed(viewer_client, "?q=scorecard-email:42")) == ids(outbox["mailed"])
    assert set(listed(viewer_client, "?q=acme.example.org")) == ids(dead)
    assert set(listed(viewer_client, "?q=lead_sync")) == ids(outbox["synced"])


def test_sort_by_attempts_both_ways(viewer_client, outbox):
    ascending = listed(viewer_client, "?sort=attempts")
    assert ascending[0] == outbox["fresh"].pk and ascending[-1] == outbox["dead"].pk
    descending = listed(viewer_client, "?sort=-attempts")
    assert descending[0] == outbox["dead"].pk and descending[-1] == outbox["fresh"].pk


def test_export_csv_and_xlsx_hold_exactly_the_filtered_rows(viewer_client, outbox, q3):
    response = viewer_client.get(f"/staff/deliveries/?partner={q3.pk}&state=pending&export=csv")
    rows = csv_rows(response)
    header, body = rows[0], rows[1:]
    assert header[:3] == ["ID", "Created", "Kind"]
    assert {int(row[0]) for row in body} == ids(outbox["fresh"], outbox["retrying"])
    assert {row[header.index("Partner")] for row in body} == {"Q3 HR"}
    assert {row[header.index("State")] for row in body} == {"pending", "retrying"}
    response = viewer_client.get("/staff/deliveries/?state=delivered&export=xlsx")
    data = b"".join(response.streaming_content)
    sheet = load_workbook(io.BytesIO(data)).active
    values = list(sheet.values)
    assert {row[0] for row in values[1:]} == ids(outbox["synced"], outbox["mailed"])
    everything = viewer_client.get("/staff/deliveries/?export=csv")
    assert SECRET not in b"".join(everything.streaming_content).decode()
    assert SECRET.encode() not in data


def test_list_queries_do_not_grow_with_rows(viewer_client, q3, acme):
    def count_for(rows: int) -> int:
        Delivery.objects.all().delete()
        for n in range(rows):
            partner = q3 if n % 2 else acme
            make(partner=partner, status=Status.DEAD if n % 3 else Status.PENDING)
        return queries_of(viewer_client, "/staff/deliveries/")

    assert count_for(10) == count_for(200)


def test_export_queries_do_not_grow_with_rows(viewer_client, q3, acme):
    def count_for(rows: int) -> int:
        Delivery.objects.all().delete()
        for n in range(rows):
            make(partner=q3 if n % 2 else acme)
        with CaptureQueriesContext(connection) as queries:
            response = viewer_client.get("/staff/deliveries/?export=csv")
            assert len(csv_rows(response)) == rows + 1
        return len(queries)

    assert count_for(10) == count_for(200)


# --- one delivery


def test_detail_shows_every_attempt_and_never_the_secret(viewer_client, outbox):
    delivery = outbox["dead"]
    attempt(delivery, Outcome.DELIVERED, status_code=200, error="", response_excerpt='{"ok":1}')
    html = viewer_client.get(f"/staff/deliveries/{delivery.pk}/").content.decode()
    assert html.count('<tr class="attempt"') == 2
    assert "no such path" in html and "HTTP 404" in html and "120 ms" in html
    assert "Acme Talent" in html and str(delivery.webhook_id) in html
    assert "yes (1 signature)" in html
    assert '<pre class="payload" id="delivery-payload">{\n  &quot;user_id&quot;' in html
    assert SECRET not in html


def test_detail_shows_where_the_delivery_goes_now(viewer_client, outbox, q3):
    delivery = outbox["retrying"]
    q3.base_url = "https://fixed.q3.example.com"
    q3.save()
    html = viewer_client.get(f"/staff/deliveries/{delivery.pk}/").content.decode()
    assert (
        '<code id="delivery-destination">https://fixed.q3.example.com/api/receive-assessment-results'
        in html
    )
    assert "https://q3.example.com/api/receive-results" in html  # where it last went


def test_detail_shows_the_transport_progress(viewer_client, outbox):
    html = viewer_client.get(f"/staff/deliveries/{outbox['synced'].pk}/").content.decode()
    assert "&quot;deal_id&quot;: &quot;5002&quot;" in html


def test_pending_detail_refreshes_itself_until_done(viewer_client, outbox):
    url = f"/staff/deliveries/{outbox['retrying'].pk}/"
    assert 'hx-trigger="every 2s"' in viewer_client.get(url).content.decode()
    partial = viewer_client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert partial.lstrip().startswith('<section id="progress"') and "<html" not in partial
    Delivery.objects.filter(pk=outbox["retrying"].pk).update(
        status=Status.DELIVERED, delivered_at=timezone.now()
    )
    partial = viewer_client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "every 2s" not in partial and "badge delivered" in partial


def test_detail_is_404_for_an_unknown_delivery(viewer_client, db):
    assert viewer_client.get("/staff/deliveries/987654/").status_code == 404


def test_persian_pages_use_persian_digits(viewer_client, outbox):
    viewer_client.post("/staff/language/", {"language": "fa", "next": "/staff/deliveries/"})
    html = viewer_client.get("/staff/deliveries/").content.decode()
    assert 'dir="rtl"' in html and "۸" in html  # the dead delivery's 8 attempts
    html = viewer_client.get(f"/staff/deliveries/{outbox['dead'].pk}/").content.decode()
    assert "۱۲۰" in html  # the attempt's duration


# --- actions


def test_send_now_makes_a_retrying_delivery_due_now_and_enqueues_it(
    operator_client, outbox, queue, django_capture_on_commit_callbacks
):
    delivery = outbox["retrying"]
    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post(f"/staff/deliveries/{delivery.pk}/send-now/")
    assert response.status_code == 302
    assert response["Location"] == f"/staff/deliveries/{delivery.pk}/"
    delivery.refresh_from_db()
    assert delivery.status == Status.PENDING and delivery.next_attempt_at <= timezone.now()
    assert queue.pending_count() == 1
    entry = AuditEntry.objects.get(action="delivery.send_now")
    assert entry.actor_label == "operator@example.com"
    page = operator_client.get(response["Location"]).content.decode()
    assert "Sending it now." in page


def test_send_now_while_a_worker_holds_it_says_to_try_again(operator_client, outbox, queue):
    delivery = outbox["retrying"]
    Delivery.objects.filter(pk=delivery.pk).update(
        locked_until=timezone.now() + timedelta(seconds=60)
    )
    response = operator_client.post(f"/staff/deliveries/{delivery.pk}/send-now/", follow=True)
    assert "A worker is sending it right now; try again in a moment." in response.content.decode()
    assert queue.pending_count() == 0 and not AuditEntry.objects.exists()


# Send now of a dead delivery replays it, as the replay action does.
@pytest.mark.parametrize(
    ("action", "audited"), [("replay", "delivery.replay"), ("send-now", "delivery.send_now")]
)
def test_replay_of_a_dead_delivery_starts_it_again(
    operator_client, outbox, queue, django_capture_on_commit_callbacks, action, audited
):
    delivery = outbox["dead"]
    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post(f"/staff/deliveries/{delivery.pk}/{action}/", follow=True)
    assert "Replayed: it is being sent again." in response.content.decode()
    delivery.refresh_from_db()
    assert delivery.status == Status.PENDING and delivery.attempt_count == 0
    assert delivery.last_error == ""
    assert queue.pending_count() == 1
    entry = AuditEntry.objects.get(action=audited)
    assert entry.changes["status"] == ["dead", "pending"]


def test_replay_of_a_pending_delivery_changes_nothing(operator_client, outbox, queue):
    delivery = outbox["fresh"]
    response = operator_client.post(f"/staff/deliveries/{delivery.pk}/replay/", follow=True)
    assert "still pending" in response.content.decode()
    assert not AuditEntry.objects.exists()


def test_action_with_htmx_returns_the_progress_and_the_message(
    operator_client, outbox, django_capture_on_commit_callbacks
):
    delivery = outbox["dead"]
    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post(
            f"/staff/deliveries/{delivery.pk}/replay/", headers={"HX-Request": "true"}
        )
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert 'id="messages"' in html and 'hx-swap-oob="true"' in html
    assert "Replayed: it is being sent again." in html
    assert 'hx-trigger="every 2s"' in html and "Send now" in html


def test_bulk_replay_confirms_then_replays_the_filtered_set_and_leaves_pending_ones(
    operator_client, outbox, q3, queue, django_capture_on_commit_callbacks
):
    query = f"partner={q3.pk}&sort=-created&page=2"
    outbox["fresh"].refresh_from_db()
    before = {d.pk: d.status for d in Delivery.objects.all()}
    confirm = operator_client.post(f"/staff/deliveries/replay/?{query}")
    html = confirm.content.decode()
    assert confirm.status_code == 200
    assert f'action="/staff/deliveries/replay/?partner={q3.pk}&amp;sort=-created"' in html
    assert "1 delivery will be replayed" in html
    assert "2 pending deliveries are left alone" in html
    assert Delivery.objects.filter(status=Status.PENDING).count() == 2  # nothing done yet
    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post(f"/staff/deliveries/replay/?{query}", {"confirm": "yes"})
    assert response.status_code == 302
    assert response["Location"] == f"/staff/deliveries/?partner={q3.pk}&sort=-created"
    page = operator_client.get(response["Location"]).content.decode()
    assert "Replayed 1; 2 still pending left alone." in page
    for name in ("q3_dead",):
        outbox[name].refresh_from_db()
        assert outbox[name].status == Status.PENDING
    for name in ("dead", "synced", "mailed", "fresh", "retrying"):
        outbox[name].refresh_from_db()
        assert outbox[name].status == before[outbox[name].pk], name
    assert AuditEntry.objects.filter(action="delivery.replay").count() == 1
    assert queue.pending_count() == 1


def test_bulk_replay_of_delivered_and_dead_ones(
    operator_client, outbox, django_capture_on_commit_callbacks
):
    for state, replayed in (("dead", 2), ("delivered", 2)):
        with django_capture_on_commit_callbacks(execute=True):
            response = operator_client.post(
                f"/staff/deliveries/replay/?state={state}", {"confirm": "yes"}, follow=True
            )
        assert f"Replayed {replayed} deliveries." in response.content.decode()
    assert Delivery.objects.filter(status=Status.PENDING).count() == 6
    assert AuditEntry.objects.filter(action="delivery.replay").count() == 4


def test_bulk_replay_with_htmx_confirms_inline_then_redirects(
    operator_client, outbox, django_capture_on_commit_callbacks
):
    hx = {"HX-Request": "true"}
    confirm = operator_client.post(
        "/staff/deliveries/replay/?state=dead", headers=hx
    ).content.decode()
    assert "<html" not in confirm and "2 deliveries will be replayed" in confirm
    assert 'name="confirm" value="yes"' in confirm
    with django_capture_on_commit_callbacks(execute=True):
        done = operator_client.post(
            "/staff/deliveries/replay/?state=dead", {"confirm": "yes"}, headers=hx
        )
    assert done.headers["HX-Redirect"] == "/staff/deliveries/?state=dead"


def test_bulk_replay_with_nothing_to_replay_offers_no_button(operator_client, outbox):
    html = operator_client.post("/staff/deliveries/replay/?state=pending").content.decode()
    assert "nothing to replay" in html and 'name="confirm"' not in html


def test_bulk_replay_acts_on_exactly_the_rows_the_list_shows(
    operator_client, outbox, django_capture_on_commit_callbacks
):
    query = "q=example&state=dead"  # search and a filter: acme's dead one and q3's
    shown = set(listed(operator_client, f"?{query}"))
    assert shown == ids(outbox["dead"], outbox["q3_dead"])
    confirm = operator_client.post(f"/staff/deliveries/replay/?{query}").content.decode()
    assert "2 deliveries will be replayed" in confirm
    with django_capture_on_commit_callbacks(execute=True):
        operator_client.post(f"/staff/deliveries/replay/?{query}", {"confirm": "yes"})
    replayed = AuditEntry.objects.filter(action="delivery.replay")
    assert {int(pk) for pk in replayed.values_list("target_id", flat=True)} == shown


@pytest.mark.parametrize("hx", [{}, {"HX-Request": "true"}])
@pytest.mark.parametrize("confirm", [{}, {"confirm": "yes"}])
def test_bulk_replay_of_a_query_the_list_refuses_is_refused(
    operator_client, outbox, queue, hx, confirm
):
    assert operator_client.get("/staff/deliveries/?q=%00").status_code == 400
    response = operator_client.post("/staff/deliveries/replay/?q=%00", confirm, headers=hx)
    assert response.status_code == 400
    assert "query parameter q" in response.content.decode()
    assert not AuditEntry.objects.exists() and queue.pending_count() == 0
    assert Delivery.objects.filter(status=Status.DEAD).count() == 2


@pytest.mark.parametrize("hx", [{}, {"HX-Request": "true"}])
@pytest.mark.parametrize("confirm", [{}, {"confirm": "yes"}])
@pytest.mark.parametrize("query", ["state=bogus", "partner=987654", "state=dead&until=never"])
def test_bulk_replay_with_an_invalid_filter_does_nothing_and_says_why(
    operator_client, outbox, queue, hx, confirm, query
):
    response = operator_client.post(f"/staff/deliveries/replay/?{query}", confirm, headers=hx)
    html = response.content.decode()
    # htmx swaps no error status: its refusal is the partial, with a 200.
    assert response.status_code == (200 if hx else 400)
    assert "A filter is not valid: nothing was replayed." in html
    label = {"state": "State", "partner": "Partner", "state=dead&until": "To"}
    assert f"{label[query.rsplit('=', 1)[0]]}: " in html
    assert f'href="/staff/deliveries/?{query.replace("&", "&amp;")}"' in html
    assert "will be replayed" not in html and 'name="confirm"' not in html
    assert not AuditEntry.objects.exists() and queue.pending_count() == 0
    assert Delivery.objects.filter(status=Status.DEAD).count() == 2


@pytest.mark.parametrize("query", ["q=%00", "state=bogus", "state=dead"])
def test_bulk_replay_refuses_the_query_in_a_form_field_of_an_earlier_page(
    operator_client, outbox, queue, query
):
    # Read apart from the request's own checks, that field once widened the set to every one.
    response = operator_client.post("/staff/deliveries/replay/", {"query": query, "confirm": "yes"})
    assert response.status_code == 400
    assert "This form is out of date: reload the list." in response.content.decode()
    assert not AuditEntry.objects.exists() and queue.pending_count() == 0


def test_viewer_sees_no_buttons_and_is_refused_every_action(viewer_client, outbox, queue):
    assert "Replay these" not in viewer_client.get("/staff/deliveries/").content.decode()
    detail = viewer_client.get(f"/staff/deliveries/{outbox['dead'].pk}/").content.decode()
    assert "/replay/" not in detail and "/send-now/" not in detail
    for url, data in (
        (f"/staff/deliveries/{outbox['retrying'].pk}/send-now/", {}),
        (f"/staff/deliveries/{outbox['dead'].pk}/replay/", {}),
        ("/staff/deliveries/replay/?state=dead", {}),
        ("/staff/deliveries/replay/?state=dead", {"confirm": "yes"}),
    ):
        assert viewer_client.post(url, data).status_code == 403, url
    assert not AuditEntry.objects.exists() and queue.pending_count() == 0
    assert Delivery.objects.filter(status=Status.DEAD).count() == 2


def test_operator_sees_the_buttons(operator_client, outbox):
    assert "Replay these" in operator_client.get("/staff/deliveries/").content.decode()
    listed_dead = operator_client.get("/staff/deliveries/?state=dead&page=1").content.decode()
    assert 'action="/staff/deliveries/replay/?state=dead"' in listed_dead
    dead = operator_client.get(f"/staff/deliveries/{outbox['dead'].pk}/").content.decode()
    assert f'action="/staff/deliveries/{outbox["dead"].pk}/replay/"' in dead
    pending = operator_client.get(f"/staff/deliveries/{outbox['retrying'].pk}/").content.decode()
    assert f'action="/staff/deliveries/{outbox["retrying"].pk}/send-now/"' in pending


def test_actions_are_post_only(operator_client, outbox):
    assert operator_client.get(f"/staff/deliveries/{outbox['dead'].pk}/replay/").status_code == 405
