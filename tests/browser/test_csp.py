"""Every kind of page works in Chromium under the seed's CSP (default-src 'self') without a
single violation: no inline script or style, no CDN, htmx included."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_exam_flow import exam_in, items_of, launch_through_sandbox, seed_demo

pytestmark = pytest.mark.django_db(transaction=True)
CSP = "default-src 'self'"

# Runs before any page script and is not itself subject to the page's CSP.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportCspViolation(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"} on ${location.pathname}`
  );
});
"""


@pytest.fixture
def watched(browser_context, portal):
    """A page whose CSP violations and portal responses are recorded."""
    seen = {"violations": [], "responses": []}
    browser_context.expose_binding(
        "reportCspViolation", lambda source, text: seen["violations"].append(text)
    )
    browser_context.add_init_script(REPORT_VIOLATIONS)
    page = browser_context.new_page()
    page.on(
        "console",
        lambda message: (
            "Content Security Policy" in message.text
            and seen["violations"].append(f"console: {message.text}")
        ),
    )
    page.on(
        "response",
        lambda response: response.url.startswith(portal.url) and seen["responses"].append(response),
    )
    return page, seen


def assert_clean(seen: dict) -> None:
    assert seen["violations"] == []
    assert seen["responses"], "no response from the portal was seen"
    for response in seen["responses"]:
        if "/static/" in response.url:
            # live_server serves static files itself, outside the middleware; the portal's
            # WhiteNoise does not (tests/portal/test_security_headers.py checks those).
            continue
        headers = response.headers
        assert headers.get("content-security-policy") == CSP, response.url
        assert headers.get("x-frame-options") == "DENY", response.url
        assert headers.get("x-content-type-options") == "nosniff", response.url


def test_exam_pages_under_the_csp(watched, portal):
    page, seen = watched
    exam = exam_in(seed_demo(), "en")
    page.goto(f"{portal.url}/sandbox/")
    expect(page.locator(f"a[href='/sandbox/exams/{exam.pk}/']")).to_be_visible()

    launch = launch_through_sandbox(page, portal, exam)  # the intro, start page, exam page
    first = items_of(launch)[0]
    page.locator(f"#q-{first.question_id} input[value='1']").check()
    expect(page.locator("#save-state")).to_have_attribute("data-state", "saved")

    page.get_by_role("button", name="Finish exam…").click()  # the review page (review.js)
    page.get_by_role("button", name="Finish and see my result").click()
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Finish now").click()
    page.wait_for_url(re.compile(r"/result/$"))
    expect(page.locator(".verdict")).to_be_visible()
    kinds = {response.request.resource_type for response in seen["responses"]}
    assert {"document", "script", "stylesheet"} <= kinds, kinds
    assert_clean(seen)


def test_sandbox_q3_and_a_roleplay_reply_under_the_csp(watched, portal):
    page, seen = watched
    seed_demo()
    page.goto(f"{portal.url}/sandbox/q3/")
    page.get_by_label("Employee id (user_id)").fill("EMP_CSP")
    page.get_by_role("button", name="Attempt assessment").click()
    page.wait_for_url(re.compile(r"/roleplay/$"))
    page.locator(".roleplay-row[data-status=next] a").click()
    page.get_by_role("button", name=re.compile(r"^Start \(")).click()
    expect(page.locator("#timer-value")).to_have_text(re.compile(r"^\d+:\d\d$"))
    page.locator("form.reply input[name=option]").first.check()
    page.get_by_role("button", name="Send reply").click()  # an htmx reply
    expect(page.locator(".bubble.you")).to_have_count(1)
    assert any(r.request.headers.get("hx-request") for r in seen["responses"])
    assert_clean(seen)


def test_admin_login_and_api_docs_under_the_csp(watched, portal):
    page, seen = watched
    page.goto(f"{portal.url}/admin/login/")
    expect(page.get_by_label("Username")).to_be_visible()
    page.goto(f"{portal.url}/api/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Assessment Portal API")
    expect(page.locator(".opblock").first).to_be_visible()
    assert_clean(seen)

    # The listener does catch a violation: an inline <style> is refused and reported.
    page.evaluate(
        "const style = document.createElement('style');"
        "style.textContent = 'p {}'; document.head.append(style);"
    )
    for _ in range(50):
        if seen["violations"]:
            break
        page.wait_for_timeout(100)
    assert any("style-src" in v for v in seen["violations"]), seen["violations"]
