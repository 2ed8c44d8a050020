"""End to end over real HTTP: the sandbox Q3 launches a candidate, who takes both roleplays in
Chromium; the results reach the sandbox's receiver through a running Huey consumer, and the
browser ends at return_url."""

import re
import time

import pytest
from playwright.sync_api import expect

from portal.roleplays.models import Assessment
from portal.sandbox.models import ReceivedWebhook
from tests.browser.test_exam_flow import seed_demo

pytestmark = pytest.mark.django_db(transaction=True)


def received(kind: str, timeout: float = 45, **match) -> ReceivedWebhook | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for hook in ReceivedWebhook.objects.filter(kind=kind, signature_valid=True):
            if all(hook.payload.get(key) == value for key, value in match.items()):
                return hook
        time.sleep(0.25)
    return None


def reply_with_the_first_option(page) -> None:
    """Choose (a radio) then commit ("Send reply"): choosing alone sends nothing."""
    page.locator("form.reply input[name=option]").first.check()
    page.get_by_role("button", name="Send reply").click()


def answer_conversation(page) -> None:
    """Reply with the first option at every turn, then rate any 16PF statements."""
    while True:
        if page.locator("form.reply").count():
            said = page.locator(".bubble.you").count()
            reply_with_the_first_option(page)
            page.wait_for_function(
                "n => document.querySelectorAll('.bubble.you').length > n"
                " || location.pathname === '/roleplay/'",
                arg=said,
            )
        elif page.locator("form.likert").count():
            for item in page.locator("fieldset.likert-item").all():
                item.get_by_role("radio", name="Agree", exact=True).check()
            page.get_by_role("button", name="Submit ratings").click()
            page.wait_for_url(re.compile(r"/roleplay/$"))
        else:
            return


def test_sandbox_q3_launch_to_results_through_the_consumer(page, portal, huey_consumer):
    demo = seed_demo()
    cluster_id = demo["clusters"][0]["cluster_id"]
    # The demo partner was given the cluster: its metadata goes out through the consumer.
    metadata = received("cluster_metadata_sync", cluster_id=cluster_id)
    assert metadata is not None, huey_consumer()
    assert metadata.payload["number_of_roleplays"] == 2

    page.goto(f"{portal.url}/sandbox/q3/")
    page.get_by_label("Employee id (user_id)").fill("EMP_789")
    page.get_by_role("button", name="Attempt assessment").click()
    page.wait_for_url(re.compile(r"/roleplay/$"))  # JWT launch, then the POST redirect
    expect(page.locator("#cluster-progress")).to_have_text("0 of 2 roleplays completed")

    for done in (1, 2):
        page.locator(".roleplay-row[data-status=next] a").click()
        expect(page.get_by_role("heading", name="Your brief")).to_be_visible()
        page.get_by_role("button", name=re.compile(r"^Start \(")).click()
        expect(page.locator("#timer-value")).to_have_text(re.compile(r"^\d+:\d\d$"))
        if done == 1:  # a reload mid-conversation resumes where the candidate was
            # The brief stays at hand during play, closed until asked for.
            brief = page.locator("details#brief")
            expect(brief.locator("p").first).to_be_hidden()
            brief.locator("summary").click()
            expect(brief.get_by_role("heading", name="Who you will meet")).to_be_visible()
            reply_with_the_first_option(page)
            expect(page.locator(".bubble.you")).to_have_count(1)
            expect(brief).to_have_attribute("open", ""), "an htmx swap leaves it as it was"
            # Focus follows the conversation: the new message to answer.
            expect(page.locator("#stage [data-current]")).to_be_focused()
            page.reload()
            expect(page.locator(".bubble.you")).to_have_count(1)
        answer_conversation(page)
        expect(page.locator("#cluster-progress")).to_have_text(f"{done} of 2 roleplays completed")

    page.get_by_role("link", name="Finish").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    assessment = Assessment.objects.get(user_id="EMP_789")
    assert assessment.status == "completed"

    results = received("results_submission", user_id="EMP_789")
    assert results is not None, huey_consumer()
    assert [rp["roleplay_id"] for rp in results.payload["roleplays"]] == demo["clusters"][0][
        "roleplays"
    ]
    for roleplay in results.payload["roleplays"]:
        assert roleplay["stakeholders"] != "00" and roleplay["time_taken"] >= 0
        for competency in roleplay["competencies"]:
            assert 0 <= competency["marks_obtained"] <= competency["max_marks"]

    page.get_by_role("link", name="Back to your portal").click()
    page.wait_for_url(re.compile(r"/sandbox/q3/\?user_id=EMP_789$"))
    expect(page.locator("article.received-result[data-user=EMP_789]")).to_be_visible()
