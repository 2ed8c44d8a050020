"""Scorecard leads in the console: the list (filters, search, sort, exports, statuses), a lead's
page, and re-sync to HubSpot / re-send of the results e-mail for one lead or a filtered set."""

import csv
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from openpyxl import load_workbook

from integrations.deliveries import attempt_delivery
from integrations.models import Delivery
from portal.audit.models import AuditEntry
from portal.scorecards import leads, services
from portal.scorecards.content import load_scorecard
from portal.scorecards.models import Scorecard, Visit, VisitorSession
from tests.integrations.conftest import HubSpotStandIn

pytestmark = pytest.mark.django_db

CONTENT = Path(__file__).resolve().parents[2] / "portal/scorecards/fixtures/scorecard_v1.json"
LIST = "/staff/leads/"
Status = Delivery.Status


@pytest.fixture
def scorecard(db) -> Scorecard:
    return load_scorecard(json.loads(CONTENT.read_text(encoding="utf-8")))


def complete_visit(
    scorecard: Scorecard,
    *,
    email: str = "",
    company: str = "",
    first: str = "",
    last: str = "",
    phone: str = "",
    letters: str = "CCCC",
) -> Visit:
    """A visitor takes the scorecard through the portal's own service: start, four steps
    (`letters`: the answer given to every question of each step), submit."""
    now = timezone.now()
    session = VisitorSession.objects.create(expires_at=now + timedelta(hours=1), last_activity=now)
    services.start(session=session, email=email, company=company)
    for step, section in enumerate(scorecard.sections.order_by("step")):
        answers = {q.qid: letters[step] for q in section.questions.all()}
        services.save_progress(session=session, step=step, responses=answers)
    contact = {"firstName": first, "lastName": last, "phone": phone}
    return services.submit(session=session, completion_time=240, contact=contact).visit


@pytest.fixture
def hubspot(settings):
    """The HubSpot stand-in on 127.0.0.1, configured as the portal's HubSpot."""
    stand_in = HubSpotStandIn()
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    settings.HTTP_TIMEOUT_SECONDS = 2.0
    settings.HUBSPOT_API_BASE = stand_in.base
    settings.HUBSPOT_ACCESS_TOKEN = stand_in.TOKEN
    yield stand_in
    stand_in.close()


@pytest.fixture
def people(scorecard, hubspot, settings) -> dict[str, Visit]:
    """Four visitors. Ada (all A: crisis, qualified) and Bob (all E: champion) submitted while
    HubSpot was configured; Cy (all C: risk zone, no company) and an anonymous visitor (all D,
    no e-mail) while it was not. Ada's sync went through; Bob's was refused for good."""
    ada = complete_visit(
        scorecard,
        email="ada@acme.example",
        company="Acme Corp",
        first="Ada",
        last="Lovelace",
        phone="+44 20 7946 0000",
        letters="AAAA",
    )
    bob = complete_visit(
        scorecard,
        email="bob@beta.example",
        company="Beta Ltd",
        first="Bob",
        last="Builder",
        letters="EEEE",
    )
    token = settings.HUBSPOT_ACCESS_TOKEN
    settings.HUBSPOT_ACCESS_TOKEN = ""
    cy = complete_visit(scorecard, email="cy@gamma.example", letters="CCCC")
    anonymous = complete_visit(scorecard, letters="DDDD")
    settings.HUBSPOT_ACCESS_TOKEN = token
    assert attempt_delivery(ada.hubspot_delivery_id) == "delivered"
    hubspot.fail("contacts", 400)
    assert attempt_delivery(bob.hubspot_delivery_id) == "refused"
    assert attempt_delivery(ada.email_delivery_id) == "delivered"
    return {"ada": ada, "bob": bob, "cy": cy, "anonymous": anonymous}


def reload(visit: Visit) -> Visit:
    return Visit.objects.select_related("hubspot_delivery", "email_delivery").get(pk=visit.pk)


def rows_of(html: str) -> str:
    return html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]


def csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def xlsx_rows(response) -> list[tuple]:
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    return list(sheet.values)


# --- the list -------------------------------------------------------------------------------


def test_the_list_shows_every_completed_visit_with_its_scores_and_statuses(
    viewer_client, people, scorecard
):
    open_session = VisitorSession.objects.create(
        expires_at=timezone.now() + timedelta(hours=1), last_activity=timezone.now()
    )
    services.start(session=open_session, email="unfinished@example.com")
    html = viewer_client.get(LIST).content.decode()
    rows = rows_of(html)
    assert rows.count("<tr id=") == 4 and "unfinished@example.com" not in rows
    ada = rows.split(f'id="lead-{people["ada"].pk}"', 1)[1].split("</tr>", 1)[0]
    assert "Ada Lovelace" in ada and "ada@acme.example" in ada and "+44 20 7946 0000" in ada
    assert "Acme Corp" in ada and "Crisis" in ada and "Executive briefing" in ada
    assert '<span class="badge synced">synced</span>' in ada
    assert '<span class="badge pending">pending</span>' not in ada  # the e-mail went out too
    assert '<span class="badge sent">sent</span>' in ada
    bob = rows.split(f'id="lead-{people["bob"].pk}"', 1)[1].split("</tr>", 1)[0]
    assert '<span class="badge failed">failed</span>' in bob
    assert '<td class="num">100</td>' in bob and "Champion" in bob
    cy = rows.split(f'id="lead-{people["cy"].pk}"', 1)[1].split("</tr>", 1)[0]
    assert '<span class="badge skipped">skipped</span>' in cy  # HubSpot not configured then
    assert '<span class="badge pending">pending</span>' in cy  # its e-mail still queued
    assert '<td class="num">48</td>' in cy and "Basic" in cy
    anonymous = rows.split(f'id="lead-{people["anonymous"].pk}"', 1)[1].split("</tr>", 1)[0]
    assert anonymous.count('<span class="badge skipped">skipped</span>') == 2
    # A viewer reads; the buttons are an operator's.
    assert "Re-sync" not in html


FILTER_CASES = [
    ("category=crisis", {"ada"}),
    ("category=champion", {"bob"}),
    ("lead_quality=executive_briefing_qualified", {"ada"}),
    ("lead_quality=basic", {"cy"}),
    ("lead_quality=none", {"anonymous"}),
    ("qualified=yes", {"ada"}),
    ("qualified=no", {"bob", "cy", "anonymous"}),
    ("hubspot_status=synced", {"ada"}),
    ("hubspot_status=failed", {"bob"}),
    ("hubspot_status=skipped", {"cy", "anonymous"}),
    ("email_status=sent", {"ada"}),
    ("email_status=pending", {"bob", "cy"}),
    ("email_status=skipped", {"anonymous"}),
    ("q=lovelace", {"ada"}),
    ("q=BETA", {"bob"}),
    ("q=gamma.example", {"cy"}),
    ("q=bob&hubspot_status=synced", set()),
]


def test_filters_and_search_select_the_rows(viewer_client, people):
    for query, expected in FILTER_CASES:
        rows = rows_of(viewer_client.get(f"{LIST}?{query}").content.decode())
        shown = {name for name, visit in people.items() if f'id="lead-{visit.pk}"' in rows}
        assert shown == expected, query


def test_dates_filter_on_completion(viewer_client, people):
    Visit.objects.filter(pk=people["ada"].pk).update(
        completed_at=timezone.now() - timedelta(days=10)
    )
    since = (timezone.localdate() - timedelta(days=2)).isoformat()
    until = (timezone.localdate() - timedelta(days=5)).isoformat()
    recent = rows_of(viewer_client.get(f"{LIST}?since={since}").content.decode())
    assert f'id="lead-{people["ada"].pk}"' not in recent and recent.count("<tr id=") == 3
    old = rows_of(viewer_client.get(f"{LIST}?until={until}").content.decode())
    assert old.count("<tr id=") == 1 and f'id="lead-{people["ada"].pk}"' in old


def test_sorting_by_total_and_by_an_area(viewer_client, people):
    def order(query: str) -> list[str]:
        rows = rows_of(viewer_client.get(f"{LIST}?{query}").content.decode())
        places = {name: rows.index(f'id="lead-{v.pk}"') for name, v in people.items()}
        return sorted(places, key=places.get)

    assert order("sort=total") == ["ada", "cy", "anonymous", "bob"]
    assert order("sort=-total") == ["bob", "anonymous", "cy", "ada"]
    assert order("sort=-governance") == ["bob", "anonymous", "cy", "ada"]
    html = viewer_client.get(f"{LIST}?sort=-total").content.decode()
    assert 'aria-sort="descending"' in html


def test_exports_hold_the_filtered_rows_with_every_column(viewer_client, people):
    rows = csv_rows(viewer_client.get(f"{LIST}?qualified=no&q=example&export=csv"))
    header, *data = rows
    assert header[:6] == [
        "Assessment",
        "First name",
        "Last name",
        "E-mail address",
        "Phone",
        "Company",
    ]
    assert "Value assurance" in header and "HubSpot" in header and "E-mail" in header
    by_email = {row[3]: dict(zip(header, row, strict=True)) for row in data}
    assert set(by_email) == {"bob@beta.example", "cy@gamma.example"}
    bob = by_email["bob@beta.example"]
    assert bob["First name"] == "Bob" and bob["Total"] == "100" and bob["Governance"] == "100"
    assert bob["Category"] == "champion" and bob["Lead quality"] == "enhanced"
    assert bob["Qualified for briefing"] == "no" and bob["HubSpot"] == "failed"
    assert by_email["cy@gamma.example"]["HubSpot"] == "skipped"
    assert by_email["cy@gamma.example"]["E-mail"] == "pending"

    sheet = xlsx_rows(viewer_client.get(f"{LIST}?hubspot_status=synced&export=xlsx"))
    assert len(sheet) == 2
    ada = dict(zip(sheet[0], sheet[1], strict=True))
    assert ada["E-mail address"] == "ada@acme.example" and ada["Phone"] == "'+44 20 7946 0000"
    assert ada["Total"] == 0 and ada["HubSpot"] == "synced" and ada["E-mail"] == "sent"
    assert ada["Qualified for briefing"] == "yes" and ada["Completed"]


def test_the_list_in_persian_has_persian_digits(viewer_client, people):
    viewer_client.post("/staff/language/", {"language": "fa", "next": LIST})
    html = viewer_client.get(LIST).content.decode()
    assert 'dir="rtl"' in html and "۱۰۰" in html and "۴۸" in html


def test_list_queries_do_not_grow_with_rows(operator_client, scorecard, settings):
    settings.HUBSPOT_ACCESS_TOKEN = "pat-test"

    def count_for(rows: int) -> int:
        Visit.objects.all().delete()
        first = complete_visit(scorecard, email="lead@example.com", company="Acme", first="A")
        # More visits like the first, as the service stores them, sharing its deliveries.
        fields = {
            f.attname: getattr(first, f.attname)
            for f in Visit._meta.concrete_fields
            if f.attname not in {"id", "assessment_id", "share_token", "session_id"}
        }
        sessions = VisitorSession.objects.bulk_create(
            VisitorSession(expires_at=first.session.expires_at, last_activity=timezone.now())
            for _ in range(rows - 1)
        )
        Visit.objects.bulk_create(
            Visit(**fields, session=session, share_token=f"share-{rows}-{n}")
            for n, session in enumerate(sessions)
        )
        with CaptureQueriesContext(connection) as queries:
            response = operator_client.get(f"{LIST}?sort=-total")
            assert response.status_code == 200
        assert response.content.decode().count("<tr id=") == min(rows, 50)
        return len(queries)

    assert count_for(10) == count_for(200)


# --- a lead's page ----------------------------------------------------------------------------


def test_the_lead_page_shows_answers_recommendations_and_deliveries(viewer_client, people):
    ada = people["ada"]
    html = viewer_client.get(f"{LIST}{ada.pk}/").content.decode()
    assert "Ada Lovelace" in html and "ada@acme.example" in html and ada.assessment_id in html
    first = Visit.objects.get(pk=ada.pk).scorecard.sections.get(step=0).questions.first()
    choice = first.choices.get(letter="A")
    assert first.text in html and choice.text in html  # question and the answer they chose
    assert "Step 1: Value Assurance — 0/100" in html
    assert "Recommendations shown to them" in html and "high priority" in html
    assert "HubSpot sync" in html and "Results e-mail" in html
    assert Delivery.objects.get(pk=ada.hubspot_delivery_id).state["contact_id"] in html
    try:
        link = reverse("staff:delivery", args=[ada.hubspot_delivery_id])
    except NoReverseMatch:  # the deliveries area has no page for one delivery yet
        link = None
    if link:
        assert f'href="{link}"' in html
    assert "Re-sync to HubSpot" not in html  # a viewer's page has no action


def test_an_unfinished_visit_has_no_lead_page(viewer_client, scorecard):
    session = VisitorSession.objects.create(
        expires_at=timezone.now() + timedelta(hours=1), last_activity=timezone.now()
    )
    visit = services.start(session=session, email="x@example.com")
    assert viewer_client.get(f"{LIST}{visit.pk}/").status_code == 404


# --- actions: one lead ------------------------------------------------------------------------


def resync(client, visit, **extra):
    return client.post(f"{LIST}{visit.pk}/resync/", {"next": LIST, **extra}, follow=True)


def test_resync_of_a_synced_lead_updates_the_contact_and_makes_no_second_deal(
    operator_client, operator, people, hubspot
):
    ada = people["ada"]
    assert len(hubspot.deals) == 1  # qualified: the briefing deal
    response = resync(operator_client, ada)
    assert "Ada Lovelace &lt;ada@acme.example&gt;: the HubSpot sync is being sent now." in (
        response.content.decode()
    )
    delivery = reload(ada).hubspot_delivery
    assert delivery.status == Status.PENDING and delivery.state["deal_id"]
    assert attempt_delivery(delivery.pk) == "delivered"
    assert len(hubspot.bodies("contacts")) == 3  # Ada's, Bob's refused one, Ada's again
    assert len(hubspot.deals) == 1 and len(hubspot.contacts) == 1
    entry = AuditEntry.objects.get(action="delivery.send_now")
    assert entry.actor == operator and entry.target_id == str(delivery.pk)
    assert entry.changes["status"] == ["delivered", "pending"]


def test_resync_of_a_failed_lead_sends_it_again(operator_client, people, hubspot):
    bob = people["bob"]
    resync(operator_client, bob)
    assert reload(bob).hubspot_delivery.status == Status.PENDING
    assert attempt_delivery(bob.hubspot_delivery_id) == "delivered"
    assert "bob@beta.example" in hubspot.contacts
    html = operator_client.get(f"{LIST}?hubspot_status=synced").content.decode()
    assert f'id="lead-{bob.pk}"' in rows_of(html)


def test_resync_of_a_pending_lead_sends_it_now(operator_client, people, hubspot):
    bob = people["bob"]
    later = timezone.now() + timedelta(hours=2)
    Delivery.objects.filter(pk=bob.hubspot_delivery_id).update(
        status=Status.PENDING,
        next_attempt_at=later,  # waiting for its next retry
    )
    resync(operator_client, bob)
    delivery = reload(bob).hubspot_delivery
    assert delivery.next_attempt_at <= timezone.now()
    assert attempt_delivery(delivery.pk) == "delivered"


def test_resync_of_a_skipped_lead_creates_the_sync_once_hubspot_is_configured(
    operator_client, operator, people, hubspot, settings
):
    cy = people["cy"]
    settings.HUBSPOT_ACCESS_TOKEN = ""
    html = resync(operator_client, cy).content.decode()
    assert "HubSpot is not configured" in html
    assert reload(cy).hubspot_delivery is None and not AuditEntry.objects.exists()

    settings.HUBSPOT_ACCESS_TOKEN = hubspot.TOKEN
    html = resync(operator_client, cy).content.decode()
    assert "a sync was created now and is being sent" in html
    delivery = reload(cy).hubspot_delivery
    assert delivery is not None and delivery.dedupe_key == f"scorecard-hubspot:{cy.assessment_id}"
    assert attempt_delivery(delivery.pk) == "delivered"
    sent = hubspot.contacts["cy@gamma.example"]["properties"]
    assert sent["ai_assessment_score"] == "48" and sent["ai_lead_quality"] == "basic"
    assert len(hubspot.deals) == 1  # Ada's; Cy is not qualified (no company): no deal
    entry = AuditEntry.objects.get(action="lead.resync_hubspot")
    assert entry.actor == operator and entry.target_id == str(cy.pk)
    assert entry.target_label == f"cy@gamma.example ({cy.assessment_id})"
    assert entry.changes["hubspot_status"] == ["skipped", "pending"]
    # A second re-sync sends the one it has; it never makes another.
    resync(operator_client, cy)
    assert Delivery.objects.filter(transport="hubspot").count() == 3


def test_a_lead_without_an_email_address_cannot_be_synced(operator_client, people):
    html = resync(operator_client, people["anonymous"]).content.decode()
    assert "left no e-mail address, so the lead can&#x27;t be synced to HubSpot" in html
    assert not AuditEntry.objects.exists()


def test_resend_of_the_results_email_sends_it_again(operator_client, operator, people, mailoutbox):
    ada = people["ada"]
    assert len(mailoutbox) == 1
    html = operator_client.post(
        f"{LIST}{ada.pk}/resend/", {"next": f"{LIST}{ada.pk}/"}, follow=True
    ).content.decode()
    assert "the results e-mail is being sent now" in html and "Answers, step by step" in html
    assert attempt_delivery(ada.email_delivery_id) == "delivered"
    assert len(mailoutbox) == 2 and mailoutbox[1].to == ["ada@acme.example"]
    assert "Your AI Reality Check score: 0/100" in mailoutbox[1].subject
    assert AuditEntry.objects.filter(action="delivery.send_now", actor=operator).count() == 1


def test_resend_of_a_lost_email_creates_it(operator_client, people, mailoutbox):
    cy = people["cy"]
    Delivery.objects.filter(pk=cy.email_delivery_id).delete()  # the link is set to null
    html = operator_client.post(f"{LIST}{cy.pk}/resend/", follow=True).content.decode()
    assert "a results e-mail was created now" in html
    delivery = reload(cy).email_delivery
    assert attempt_delivery(delivery.pk) == "delivered"
    assert mailoutbox[-1].to == ["cy@gamma.example"]
    assert AuditEntry.objects.filter(action="lead.resend_email", target_id=str(cy.pk)).exists()


def test_htmx_resync_from_a_row_answers_the_row_and_the_message(operator_client, people):
    bob = people["bob"]
    response = operator_client.post(
        f"{LIST}{bob.pk}/resync/",
        {"next": f"{LIST}?q=bob", "partial": "row"},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert html.lstrip().startswith(f'<tr id="lead-{bob.pk}"')
    assert '<span class="badge pending">pending</span>' in html
    assert 'hx-swap-oob="true"' in html and "is being sent now" in html


def test_htmx_resync_from_the_lead_page_answers_its_deliveries(operator_client, people):
    bob = people["bob"]
    response = operator_client.post(
        f"{LIST}{bob.pk}/resync/",
        {"next": f"{LIST}{bob.pk}/", "partial": "lead"},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="deliveries"')
    assert "is being sent now" in html and "<html" not in html


# --- actions: a filtered set ------------------------------------------------------------------


def test_bulk_resync_without_javascript_confirms_then_acts_on_the_filtered_set(
    operator_client, people, hubspot
):
    url = f"{LIST}bulk/?qualified=no&sort=-total&page=2"
    confirm = operator_client.post(url, {"action": "resync_hubspot"})
    html = confirm.content.decode()
    assert confirm.status_code == 200 and "Re-sync 3 leads to HubSpot now?" in html
    assert 'action="/staff/leads/bulk/?qualified=no&amp;sort=-total"' in html
    assert not AuditEntry.objects.exists()  # nothing done before the confirmation

    done = operator_client.post(
        f"{LIST}bulk/?qualified=no&sort=-total",
        {"action": "resync_hubspot", "confirmed": "yes"},
    )
    assert done.status_code == 302
    assert done["Location"] == "/staff/leads/?qualified=no&sort=-total"
    html = operator_client.get(done["Location"]).content.decode()
    assert (
        "Re-sync to HubSpot of 3 leads: 1 sent now, 1 created and sent, "
        "1 without an e-mail address." in html
    )
    assert reload(people["bob"]).hubspot_delivery.status == Status.PENDING
    assert reload(people["cy"]).hubspot_delivery is not None
    assert reload(people["ada"]).hubspot_delivery.status == Status.DELIVERED  # not in the set
    assert AuditEntry.objects.filter(action="delivery.send_now").count() == 1
    assert AuditEntry.objects.filter(action="lead.resync_hubspot").count() == 1


def test_bulk_resend_with_htmx_confirms_inline_then_refreshes_the_list(
    operator_client, people, mailoutbox
):
    url = f"{LIST}bulk/?email_status=pending"
    confirm = operator_client.post(url, {"action": "resend_email"}, headers={"HX-Request": "true"})
    html = confirm.content.decode()
    assert html.lstrip().startswith('<div id="bulk"') and "<html" not in html
    assert "Send the results e-mail to 2 leads again now?" in html and 'hx-post="' in html
    done = operator_client.post(
        url, {"action": "resend_email", "confirmed": "yes"}, headers={"HX-Request": "true"}
    )
    html = done.content.decode()
    assert html.lstrip().startswith('<section id="results"')
    assert "Results e-mail re-sent for 2 leads: 2 sent now." in html
    for name in ("bob", "cy"):
        assert attempt_delivery(reload(people[name]).email_delivery_id) == "delivered"
    assert {tuple(m.to) for m in mailoutbox[1:]} == {("bob@beta.example",), ("cy@gamma.example",)}


def test_a_bad_filter_value_lists_no_leads_and_offers_no_bulk_action(operator_client, people):
    html = operator_client.get(f"{LIST}?category=bogus&qualified=no").content.decode()
    assert "A filter is not valid, so no rows are shown" in html
    assert "Category: Select a valid choice. bogus is not one of the available choices." in html
    assert "lovelace" not in rows_of(html).lower() and "beta.example" not in rows_of(html)
    assert 'id="bulk"' not in html and "export=csv" not in html


@pytest.mark.parametrize("hx", [{}, {"HX-Request": "true"}])
@pytest.mark.parametrize("confirmed", [{}, {"confirmed": "yes"}])
@pytest.mark.parametrize("query", ["category=bogus", "since=soon", "qualified=no&hubspot_status=x"])
def test_bulk_action_with_an_invalid_filter_does_nothing_and_says_why(
    operator_client, people, mailoutbox, hx, confirmed, query
):
    sent = len(mailoutbox)
    for action in ("resync_hubspot", "resend_email"):
        response = operator_client.post(
            f"{LIST}bulk/?{query}", {"action": action} | confirmed, headers=hx
        )
        html = response.content.decode()
        # htmx swaps no error status: its refusal is the partial, with a 200.
        assert response.status_code == (200 if hx else 400)
        assert "A filter is not valid: nothing was re-synced or re-sent." in html
        assert "Select a valid choice." in html or "Enter a valid date." in html
        assert f'href="{LIST}?{query.replace("&", "&amp;")}"' in html
    assert reload(people["bob"]).hubspot_delivery.status == Status.DEAD
    assert reload(people["cy"]).hubspot_delivery is None
    assert not AuditEntry.objects.exists() and len(mailoutbox) == sent


def test_bulk_action_on_a_query_the_list_refuses_is_refused(operator_client, people):
    assert operator_client.get(f"{LIST}?q=%00").status_code == 400
    body = {"action": "resync_hubspot", "confirmed": "yes"}
    assert operator_client.post(f"{LIST}bulk/?q=%00", body).status_code == 400
    assert reload(people["bob"]).hubspot_delivery.status == Status.DEAD
    assert not AuditEntry.objects.exists()


def test_bulk_service_counts_outcomes(operator, people, settings):
    settings.HUBSPOT_ACCESS_TOKEN = ""
    counts = leads.leads_resync_hubspot(queryset=Visit.objects.all(), actor=operator)
    assert counts == {"not_configured": 3, "no_email": 1}


# --- who may ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "action",
    ["{pk}/resync/", "{pk}/resend/", "bulk/"],
)
def test_only_operators_may_act(client, viewer_client, author_client, people, action):
    url = LIST + action.format(pk=people["bob"].pk)
    body = {"action": "resync_hubspot", "confirmed": "yes"}
    assert client.post(url, body).status_code == 302  # anonymous: to the sign-in page
    assert viewer_client.post(url, body).status_code == 403
    assert author_client.post(url, body).status_code == 403
    assert reload(people["bob"]).hubspot_delivery.status == Status.DEAD
    assert not AuditEntry.objects.exists()


def test_a_get_does_nothing(operator_client, people):
    response = operator_client.get(f"{LIST}{people['bob'].pk}/resync/")
    assert response.status_code == 405
    assert reload(people["bob"]).hubspot_delivery.status == Status.DEAD
