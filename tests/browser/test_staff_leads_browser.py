"""Scorecard leads in Chromium: an operator re-syncs a lead to the HubSpot stand-in on 127.0.0.1
(a real Huey consumer sends it), one lead with JavaScript (no CSP violation) and a filtered set
without; an export downloads and parses with the filtered rows, with JavaScript and without."""

import csv
import io
import json
import re
import time
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, Permission
from openpyxl import load_workbook
from playwright.sync_api import expect

from portal.audit.models import AuditEntry
from portal.scorecards.content import load_scorecard
from portal.scorecards.models import Visit
from portal.staff import roles
from tests.browser.test_csp import REPORT_VIOLATIONS
from tests.conftest import make_staff
from tests.factories import sign_in_without_javascript
from tests.integrations.conftest import HubSpotStandIn
from tests.staff.test_staff_leads import complete_visit

pytestmark = pytest.mark.django_db(transaction=True)
CONTENT = Path(__file__).resolve().parents[2] / "portal/scorecards/fixtures/scorecard_v1.json"


def staff_user(role: str):
    """A staff member with `role`; its group is made again if an earlier test's flush (these
    tests commit) removed the one the data migration made."""
    group, _ = Group.objects.get_or_create(name=role)
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="staff", codename__in=roles.ROLES[role])
    )
    return make_staff(f"{role}@example.com", role)


@pytest.fixture
def scorecard(db):
    return load_scorecard(json.loads(CONTENT.read_text(encoding="utf-8")))


@pytest.fixture
def leads(scorecard, settings) -> dict[str, Visit]:
    """Three visitors who submitted while HubSpot was not configured: Dana (qualified for a
    briefing), Cy (no company) and an anonymous one (no e-mail address)."""
    settings.HUBSPOT_ACCESS_TOKEN = ""
    return {
        "dana": complete_visit(
            scorecard,
            email="dana@fbi.example",
            company="FBI",
            first="Dana",
            last="Scully",
            letters="BBBB",
        ),
        "cy": complete_visit(scorecard, email="cy@gamma.example", letters="DDDD"),
        "anonymous": complete_visit(scorecard, letters="EEEE"),
    }


@pytest.fixture
def hubspot(settings, monkeypatch, leads, request):
    """HubSpot configured from now on, as the stand-in: in this process (the live server) and in
    a Huey consumer started after it."""
    stand_in = HubSpotStandIn()
    settings.HUBSPOT_API_BASE = stand_in.base
    settings.HUBSPOT_ACCESS_TOKEN = stand_in.TOKEN
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    monkeypatch.setenv("HUBSPOT_API_BASE", stand_in.base)
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", stand_in.TOKEN)
    monkeypatch.setenv("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
    request.getfixturevalue("huey_consumer")  # started now, so it sees the settings above
    yield stand_in
    stand_in.close()


def wait_until(condition, timeout: float = 45) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.1)


def wait_for_contacts(stand_in: HubSpotStandIn, count: int) -> dict:
    wait_until(lambda: len(stand_in.contacts) >= count)
    return stand_in.contacts


def test_operator_resyncs_a_lead_to_the_hubspot_stand_in(
    browser_context, staff_page, portal, leads, hubspot
):
    violations: list[str] = []
    browser_context.expose_binding(
        "reportCspViolation", lambda _source, text: violations.append(text)
    )
    browser_context.add_init_script(REPORT_VIOLATIONS)
    dana = leads["dana"]
    page = staff_page(staff_user(roles.OPERATOR))
    page.get_by_role("link", name="Scorecard leads").click()
    row = page.locator(f"#lead-{dana.pk}")
    expect(row).to_contain_text("Dana Scully")
    expect(row.locator(".badge.skipped").first).to_have_text("skipped")

    with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true"):
        row.get_by_role("button", name="Re-sync", exact=True).click()
    expect(page.locator("#messages")).to_contain_text(
        "Dana Scully <dana@fbi.example>: HubSpot was not configured when they submitted; "
        "a sync was created now and is being sent."
    )
    assert page.url == f"{portal.url}/staff/leads/"  # the row was swapped, not the page

    contacts = wait_for_contacts(hubspot, 1)
    assert set(contacts) == {"dana@fbi.example"}
    properties = contacts["dana@fbi.example"]["properties"]
    assert properties["firstname"] == "Dana" and properties["company"] == "FBI"
    assert properties["ai_assessment_score"] == str(Visit.objects.get(pk=dana.pk).total_score)
    wait_until(lambda: hubspot.deals)
    [deal] = hubspot.deals.values()  # qualified for a briefing: the deal, once
    assert deal["properties"]["ai_assessment_id"] == dana.assessment_id

    page.get_by_role("link", name="Dana Scully").click()
    page.wait_for_url(re.compile(rf"/staff/leads/{dana.pk}/"))
    region = page.locator("#deliveries")
    deadline = time.monotonic() + 30
    while "synced" not in region.locator(".badge").first.inner_text():
        assert time.monotonic() < deadline, "the sync was not recorded as synced"
        page.reload()
    expect(region).to_contain_text(contacts["dana@fbi.example"]["id"])  # the contact's id
    entry = AuditEntry.objects.get(action="lead.resync_hubspot")
    assert entry.actor_label == "operator@example.com" and entry.target_id == str(dana.pk)

    # The whole list's results e-mails again: confirmed inline, then the list comes back.
    page.get_by_role("link", name="Scorecard leads").first.click()
    page.get_by_role("button", name="Re-send the results e-mail").click()
    expect(page.locator("#bulk-question")).to_contain_text(
        "Send the results e-mail to 3 leads again now?"
    )
    assert page.url == f"{portal.url}/staff/leads/"  # inline: still the list
    page.get_by_role("button", name="Yes, send it again").click()
    expect(page.locator("#messages")).to_contain_text("Results e-mail re-sent for 3 leads:")
    expect(page.locator("#messages")).to_contain_text("1 without an e-mail address.")
    expect(page.locator("#bulk")).to_contain_text("For the 3 leads these filters select:")
    assert AuditEntry.objects.filter(action="delivery.send_now").count() >= 1
    assert violations == []  # the list, its htmx swaps and the lead's page obey the CSP


def test_without_javascript_an_operator_resyncs_a_filtered_set(chromium, portal, leads, hubspot):
    context, page = sign_in_without_javascript(chromium, portal, staff_user(roles.OPERATOR))
    try:
        page.goto(f"{portal.url}/staff/leads/")
        page.locator("select[name=hubspot_status]").select_option("skipped")
        page.locator("select[name=qualified]").select_option("no")
        page.get_by_role("button", name="Filter").click()
        page.wait_for_url(re.compile(r"hubspot_status=skipped"))
        expect(page.locator("#results tbody tr")).to_have_count(2)  # Cy and the anonymous one

        page.get_by_role("button", name="Re-sync to HubSpot").click()
        expect(page.locator("#bulk-question")).to_contain_text("Re-sync 2 leads to HubSpot now?")
        page.get_by_role("button", name="Yes, re-sync them").click()
        page.wait_for_url(re.compile(r"/staff/leads/\?.*hubspot_status=skipped"))
        expect(page.locator("#messages")).to_have_text(
            "Re-sync to HubSpot of 2 leads: 1 created and sent, 1 without an e-mail address."
        )
        # Dana was not in the set: only Cy reaches HubSpot.
        contacts = wait_for_contacts(hubspot, 1)
        time.sleep(0.5)
        assert set(contacts) == {"cy@gamma.example"}
        assert contacts["cy@gamma.example"]["properties"]["ai_lead_quality"] == "basic"
        page.goto(f"{portal.url}/staff/leads/?hubspot_status=skipped")
        expect(page.locator("#results tbody tr")).to_have_count(2)  # Dana, the anonymous one
    finally:
        context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_an_export_downloads_with_the_filtered_rows(
    chromium, staff_page, portal, leads, javascript
):
    viewer = staff_user(roles.VIEWER)
    if javascript:
        context, page = None, staff_page(viewer)
        page.goto(f"{portal.url}/staff/leads/")
        with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true"):
            page.locator("select[name=lead_quality]").select_option("basic")
    else:
        context, page = sign_in_without_javascript(chromium, portal, viewer)
        page.goto(f"{portal.url}/staff/leads/")
        page.locator("select[name=lead_quality]").select_option("basic")
        page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"lead_quality=basic"))
    expect(page.locator("#results tbody tr")).to_have_count(1)
    try:
        with page.expect_download() as download:
            page.get_by_role("link", name="CSV").click()
        text = Path(download.value.path()).read_text(encoding="utf-8-sig")
        header, *rows = list(csv.reader(io.StringIO(text)))
        assert [dict(zip(header, row, strict=True))["E-mail address"] for row in rows] == [
            "cy@gamma.example"
        ]
        record = dict(zip(header, rows[0], strict=True))
        assert record["Lead quality"] == "basic" and record["HubSpot"] == "skipped"
        assert record["Total"] == str(Visit.objects.get(pk=leads["cy"].pk).total_score)

        with page.expect_download() as download:
            page.get_by_role("link", name="XLSX").click()
        assert download.value.suggested_filename.endswith(".xlsx")
        sheet = list(
            load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).active.values
        )
        assert len(sheet) == 2
        record = dict(zip(sheet[0], sheet[1], strict=True))
        assert record["E-mail address"] == "cy@gamma.example" and record["Category"] == "builder"
    finally:
        if context is not None:
            context.close()
