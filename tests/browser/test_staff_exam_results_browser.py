"""An exam's results in Chromium: filter the attempts in the page, then the exports (attempts as
CSV, answers as XLSX) download with exactly the filtered rows, with JavaScript and without; the
Persian results and item analysis read right to left with Persian digits."""

import csv
import io
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from portal.customers.models import ClientToken
from portal.exams.models import Question
from tests.factories import make_exam, sign_in_without_javascript
from tests.staff.test_staff_exam_results import CHOSEN, take

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def known(customer):
    """The worked example's five attempts (A and B pass), question 4 shuffled."""
    exam = make_exam(customer, questions=4, title="Known exam", accept_score=60)
    Question.objects.filter(exam=exam, position=4).update(can_shuffle=True)
    token, _ = ClientToken.issue(customer=customer)
    return exam, {student: take(exam, token, student, chosen) for student, chosen in CHOSEN.items()}


def downloaded(page, link) -> Path:
    with page.expect_download() as download:
        link.click()
    return Path(download.value.path()), download.value.suggested_filename


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_exports_download_the_filtered_rows(
    chromium, staff_page, portal, viewer, known, javascript
):
    exam, quizzes = known
    results = f"{portal.url}/staff/exams/{exam.pk}/results/"
    if javascript:
        context, page = None, staff_page(viewer)
        page.goto(results)
        with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true"):
            page.locator("select[name=passed]").select_option("yes")
    else:
        context, page = sign_in_without_javascript(chromium, portal, viewer)
        page.goto(results)
        page.locator("select[name=passed]").select_option("yes")
        page.get_by_role("button", name="Filter").click()
    try:
        page.wait_for_url(re.compile(r"passed=yes"))
        expect(page.locator("#results tbody tr")).to_have_count(2)
        expect(page.locator("#total-mean")).to_contain_text("87.5%")

        path, name = downloaded(
            page, page.locator(".list-foot .exports").get_by_role("link", name="CSV")
        )
        assert name.startswith(f"exam-{exam.pk}-attempts") and name.endswith(".csv")
        rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
        assert sorted(r["student_uuid"] for r in rows) == ["stu-A", "stu-B"]
        assert {r["student_uuid"]: r["percentage"] for r in rows} == {
            "stu-A": "100.0",
            "stu-B": "75.0",
        }

        path, name = downloaded(
            page, page.locator(".answer-exports").get_by_role("link", name="XLSX")
        )
        assert name.endswith(".xlsx")
        sheet = list(load_workbook(io.BytesIO(path.read_bytes())).active.values)
        answers = [dict(zip(sheet[0], row, strict=True)) for row in sheet[1:]]
        assert len(answers) == 8  # two attempts × four questions
        assert {a["attempt"] for a in answers} == {quizzes["stu-A"].pk, quizzes["stu-B"].pk}
        wrong = [a for a in answers if a["result"] != "right"]
        assert [(a["student_uuid"], a["position"], a["chosen_text"]) for a in wrong] == [
            ("stu-B", 4, "q4 choice two")
        ]
    finally:
        if context is not None:
            context.close()


def test_persian_results_read_right_to_left_with_persian_digits(staff_page, portal, viewer, known):
    exam, _ = known
    page = staff_page(viewer, language="fa")
    page.goto(f"{portal.url}/staff/exams/{exam.pk}/results/")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    assert page.evaluate("getComputedStyle(document.querySelector('#results')).direction") == "rtl"
    expect(page.locator("#total-mean .figure")).to_have_text("۵۵٫۰%")
    expect(page.locator("#total-median .figure")).to_have_text("۵۰٫۰%")
    expect(page.locator("#total-count .figure")).to_have_text("۵")
    assert not re.search(r"[0-9]", page.locator("#results tbody td.num").first.inner_text())

    page.locator("nav.tabs a").nth(1).click()  # the item analysis
    page.wait_for_url(re.compile(r"/items/"))
    expect(page.locator("#kr20 .figure")).to_have_text("۰٫۷۳")
    expect(page.locator("#results tbody tr")).to_have_count(4)
