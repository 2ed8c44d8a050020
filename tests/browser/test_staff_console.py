"""The staff console in Chromium: Persian is right-to-left with Jalali dates, the overview and the
roleplay pages raise no CSP violation, and an operator re-sends an assessment's results to a
receiver on 127.0.0.1 (through a real Huey consumer), with JavaScript and without."""

import json
import re

import pytest
from django.contrib.auth.models import Group, Permission
from playwright.sync_api import expect

from integrations.models import Delivery
from portal.audit.models import AuditEntry
from portal.roleplays.models import Assessment, Roleplay
from portal.staff import roles
from tests.browser.test_csp import REPORT_VIOLATIONS
from tests.conftest import make_staff
from tests.factories import make_cluster, sign_in_without_javascript
from tests.staff.test_staff_roleplays import complete

pytestmark = pytest.mark.django_db(transaction=True)


def staff_user(role: str):
    """A staff member with `role`; its group is made again if an earlier test's flush (these
    tests commit) removed the one the data migration made."""
    group, _ = Group.objects.get_or_create(name=role)
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="staff", codename__in=roles.ROLES[role])
    )
    return make_staff(f"{role}@example.com", role)


def completed_assessment(results_url: str = "https://127.0.0.1/results") -> Assessment:
    """An assessment completed through the services; its results queued for `results_url`."""
    cluster, partner, options = make_cluster(partner_hosts="127.0.0.1")
    partner.aio_callback_url = results_url  # where the launch's results_url came from
    partner.save()
    rp1, rp2 = Roleplay.objects.filter(cluster=cluster).order_by("position")
    world = {"cluster": cluster, "partner": partner, "options": options, "rp1": rp1, "rp2": rp2}
    return complete(world, "EMP_789")


@pytest.fixture
def watched(browser_context):
    """CSP violations of every page of the context, by event and by console message."""
    violations: list[str] = []
    browser_context.expose_binding(
        "reportCspViolation", lambda source, text: violations.append(text)
    )
    browser_context.add_init_script(REPORT_VIOLATIONS)

    def watch(page):
        page.on(
            "console",
            lambda message: (
                "Content Security Policy" in message.text
                and violations.append(f"console: {message.text}")
            ),
        )
        return page

    return violations, watch


def test_persian_console_is_right_to_left_with_jalali_dates(staff_page):
    page = staff_page(staff_user(roles.VIEWER), language="fa")
    html = page.locator("html")
    expect(html).to_have_attribute("dir", "rtl")
    expect(html).to_have_attribute("lang", "fa")
    # The header runs from the right: the console's name at the right edge, then the nav
    # leftwards, its first link (the overview) right of the next.
    width = page.viewport_size["width"]
    brand = page.locator(".site-header .brand").bounding_box()
    links = page.locator("nav.staff-nav a")
    first, second = links.nth(0).bounding_box(), links.nth(1).bounding_box()
    assert brand["x"] + brand["width"] > width * 0.9, brand
    assert brand["x"] > first["x"] > second["x"], (brand, first, second)
    assert first["y"] == second["y"]
    heading = page.get_by_role("heading", level=1).bounding_box()
    assert heading["x"] + heading["width"] > width * 0.8, heading
    # "As of" a Solar Hijri date and time, in Persian digits; figures in Persian digits.
    stamp = page.locator("#figures time").first
    expect(stamp).to_have_text(re.compile(r"^۱۴[۰-۹]{2}/[۰-۹]{2}/[۰-۹]{2} [۰-۹]{2}:[۰-۹]{2}$"))
    expect(page.locator("#deliveries-dead .figure")).to_have_text("۰")


def test_overview_and_roleplay_pages_without_csp_violations(staff_page, watched, portal):
    violations, watch = watched
    assessment = completed_assessment()
    page = watch(staff_page(staff_user(roles.OPERATOR)))
    page.reload()
    expect(page.locator("#roleplays-today .figure")).to_have_text("1")
    # The funnel's period, swapped in by htmx.
    with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true"):
        page.get_by_role("link", name="Last 30 days").click()
    expect(page.locator("#funnel figcaption")).to_contain_text("30 days")
    # The results list; a search refreshes it by htmx.
    page.get_by_role("link", name="Roleplay results").click()
    expect(page.locator("#results tbody tr")).to_have_count(1)
    with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true"):
        page.get_by_role("searchbox").fill("nobody-like-this")
    expect(page.locator("#results .empty")).to_be_visible()
    page.get_by_role("searchbox").fill("EMP_789")
    page.get_by_role("link", name="EMP_789").click()
    page.wait_for_url(re.compile(rf"/staff/roleplays/assessments/{assessment.pk}/$"))
    expect(page.locator('tr[data-code="DOM"] .obtained')).to_have_text("sten 9")
    expect(page.locator('tr[data-code="CUST"] .obtained')).to_have_text("6")
    page.get_by_role("link", name="Test Cluster").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Test Cluster")
    page.wait_for_timeout(300)  # let a late report arrive
    assert violations == []


@pytest.mark.usefixtures("huey_consumer")
def test_operator_resends_results_from_the_assessment_page(staff_page, receiver, portal):
    assessment = completed_assessment(results_url=receiver.url())
    [(_path, first_headers, first_body)] = receiver.wait_for(1)  # sent once on completion
    assert json.loads(first_body)["user_id"] == "EMP_789"
    page = staff_page(staff_user(roles.OPERATOR))
    page.goto(f"{portal.url}/staff/roleplays/assessments/{assessment.pk}/")
    region = page.locator("#results-delivery")
    expect(region.locator(".badge")).to_have_text("delivered", timeout=30_000)

    # The partner says it lost them: send them again.
    region.get_by_role("button", name="Re-send results").click()
    expect(page.locator("#messages")).to_contain_text("The results are being sent again now.")
    requests = receiver.wait_for(2)
    assert len(requests) == 2
    _path, headers, body = requests[1]
    assert body == first_body and headers["webhook-id"] == first_headers["webhook-id"]
    # The region polls while the delivery is pending: delivered again, without a reload.
    expect(region.locator(".badge")).to_have_text("delivered", timeout=30_000)
    expect(page.locator("#messages")).to_contain_text("being sent again")
    entry = AuditEntry.objects.get(action="delivery.send_now")
    assert entry.actor_label == "operator@example.com"
    delivery = Delivery.objects.get(dedupe_key=f"results:{assessment.pk}")
    assert entry.target_id == str(delivery.pk)


@pytest.mark.usefixtures("huey_consumer")
def test_resend_without_javascript(chromium, portal, receiver):
    assessment = completed_assessment(results_url=receiver.url())
    receiver.wait_for(1)
    operator = staff_user(roles.OPERATOR)
    context, page = sign_in_without_javascript(chromium, portal, operator)
    try:
        url = f"{portal.url}/staff/roleplays/assessments/{assessment.pk}/"
        page.goto(url)
        page.get_by_role("button", name="Re-send results").click()
        page.wait_for_url(url)  # the plain form posted and came back
        expect(page.locator("#messages")).to_have_text("The results are being sent again now.")
        assert len(receiver.wait_for(2)) == 2
    finally:
        context.close()
