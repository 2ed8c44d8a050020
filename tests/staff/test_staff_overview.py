"""The console's overview: figures right on known data (today and 7-day boundaries in the
configured time zone), links to the filtered deliveries list, and a constant query count."""

import re
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from integrations.models import Delivery
from portal.exams.models import Quiz, Student
from portal.roleplays.models import Assessment
from portal.scorecards.models import Scorecard, Visit, VisitorSession
from portal.staff import figures
from tests.factories import make_assessment, make_cluster, make_exam

# 01:00 on 10 March 2026 in Tehran (UTC+03:30) is still 9 March in UTC: "today" differs.
NOW = datetime(2026, 3, 9, 21, 30, tzinfo=UTC)
TEHRAN_MIDNIGHT = datetime(2026, 3, 9, 20, 30, tzinfo=UTC)  # 10 March 00:00 in Tehran
WEEK_START = TEHRAN_MIDNIGHT - timedelta(days=6)  # 4 March 00:00 in Tehran

_numbers = count(1)


@pytest.fixture
def frozen(settings, monkeypatch):
    """The clock stopped at NOW, and the portal in Tehran time."""
    settings.TIME_ZONE = "Asia/Tehran"
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    return NOW


@pytest.fixture
def world(customer):
    cluster, partner, _options = make_cluster()
    return {"exam": make_exam(customer, questions=2), "cluster": cluster, "partner": partner}


def quiz(world, *, state="completed", end_at=None, deadline_at=None, passed=False) -> Quiz:
    n = next(_numbers)
    student = Student.objects.create(customer=world["exam"].customer, uuid=f"s{n}")
    start = (end_at or NOW) - timedelta(minutes=10)
    return Quiz.objects.create(
        student=student,
        exam=world["exam"],
        state=state,
        shuffle_seed=n,
        start_at=start,
        deadline_at=deadline_at or start + timedelta(minutes=30),
        end_at=end_at,
        is_accept=passed if state == "completed" else None,
    )


def assessment(world, *, completed_at=None) -> Assessment:
    found = make_assessment(world["cluster"], world["partner"], user_id=f"EMP_{next(_numbers)}")
    if completed_at is not None:
        Assessment.objects.filter(pk=found.pk).update(status="completed", completed_at=completed_at)
    return found


def scorecard() -> Scorecard:
    return Scorecard.objects.create(
        version="t1",
        title="Test",
        briefing_title="Briefing",
        briefing_description="Talk to us",
        briefing_button_text="Book",
        briefing_url="https://example.com/briefing",
    )


def visit(card, *, started_at, completed=False, email="", qualified=False) -> Visit:
    session = VisitorSession.objects.create(expires_at=NOW, last_activity=NOW)
    found = Visit.objects.create(scorecard=card, session=session, email=email)
    Visit.objects.filter(pk=found.pk).update(
        started_at=started_at,
        completed_at=started_at + timedelta(minutes=5) if completed else None,
        qualified_for_briefing=qualified,
    )
    return found


def delivery(status="pending", attempts=0) -> Delivery:
    return Delivery.objects.create(
        kind="results_submission",
        target_url="https://q3.example.com/hook",
        payload="{}",
        status=status,
        attempt_count=attempts,
    )


@pytest.fixture
def known_data(world, frozen):
    # Exams: two in progress (one past its deadline, so not "now"), completions at the edges.
    quiz(world, state="started", deadline_at=NOW + timedelta(minutes=5))
    quiz(world, state="started", deadline_at=NOW - timedelta(minutes=1))
    quiz(world, end_at=TEHRAN_MIDNIGHT + timedelta(minutes=1), passed=True)  # today
    quiz(world, end_at=TEHRAN_MIDNIGHT, passed=False)  # today (the first instant)
    quiz(world, end_at=TEHRAN_MIDNIGHT - timedelta(seconds=1), passed=True)  # yesterday
    quiz(world, end_at=WEEK_START, passed=True)  # the 7th day back: in the week
    quiz(world, end_at=WEEK_START - timedelta(seconds=1), passed=True)  # out of the week
    quiz(world, end_at=NOW - timedelta(days=20), passed=True)  # out of the chart too
    # Roleplays: two open, completed today, 3 days ago and 8 days ago.
    assessment(world)
    assessment(world)
    assessment(world, completed_at=TEHRAN_MIDNIGHT + timedelta(minutes=30))
    assessment(world, completed_at=NOW - timedelta(days=3))
    assessment(world, completed_at=NOW - timedelta(days=8))
    # Scorecard: 5 visits in the last 7 days, 1 more 10 days ago.
    card = scorecard()
    visit(card, started_at=NOW - timedelta(hours=1))
    visit(card, started_at=NOW - timedelta(days=1), completed=True)
    visit(card, started_at=NOW - timedelta(days=2), completed=True, email="a@example.com")
    visit(card, started_at=NOW - timedelta(days=3), completed=True, email="b@example.com")
    visit(
        card,
        started_at=WEEK_START,
        completed=True,
        email="c@example.com",
        qualified=True,
    )
    visit(
        card,
        started_at=NOW - timedelta(days=10),
        completed=True,
        email="d@example.com",
        qualified=True,
    )
    # Deliveries: 3 pending (one retrying), 1 dead, 1 delivered.
    delivery()
    delivery()
    delivery(attempts=2)
    delivery(status="dead", attempts=8)
    delivery(status="delivered", attempts=1)


def test_figures_count_calendar_days_in_the_configured_time_zone(known_data):
    data = figures.overview()
    assert data.today.isoformat() == "2026-03-10"  # Tehran's date, not UTC's
    exams = data.exams
    assert exams.in_progress == 1
    assert exams.completed_today == 2
    assert exams.completed_week == 4
    assert exams.passed_week == 3 and exams.pass_rate == 75.0
    assert len(exams.per_day) == 14 and exams.per_day[-1].day.isoformat() == "2026-03-10"
    assert [d.count for d in exams.per_day[-8:]] == [1, 1, 0, 0, 0, 0, 1, 2]
    roleplays = data.roleplays
    assert (roleplays.open, roleplays.completed_today, roleplays.completed_week) == (2, 1, 2)
    funnel = data.funnel
    assert (funnel.visits, funnel.completed, funnel.leads, funnel.qualified) == (5, 4, 3, 1)
    month = figures.overview(funnel_days=30).funnel
    assert (month.visits, month.completed, month.leads, month.qualified) == (6, 5, 4, 2)
    assert data.deliveries == figures.DeliveryFigures(pending=3, failing=1, dead=1)


def test_in_utc_the_same_data_falls_on_other_days(known_data, settings):
    settings.TIME_ZONE = "UTC"
    data = figures.overview()
    assert data.today.isoformat() == "2026-03-09"
    # Everything from 00:00 UTC on 9 March: the two "Tehran today" ones and "Tehran yesterday".
    assert data.exams.completed_today == 3


def figure(html: str, card: str) -> str:
    match = re.search(rf'id="{card}".*?<p class="figure">(.*?)</p>', html, re.S)
    assert match, card
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def test_overview_page_shows_the_figures_and_links_to_the_filtered_deliveries(
    viewer_client, known_data
):
    html = viewer_client.get("/staff/").content.decode()
    assert figure(html, "exams-in-progress") == "1"
    assert figure(html, "exams-today") == "2"
    assert figure(html, "exams-week") == "4"
    assert figure(html, "exams-pass-rate") == "75.0%"
    assert figure(html, "roleplays-open") == "2"
    assert figure(html, "roleplays-today") == "1"
    assert figure(html, "deliveries-pending") == "3"
    assert figure(html, "deliveries-failing") == "1"
    assert figure(html, "deliveries-dead") == "1"
    assert '<a href="/staff/deliveries/?state=pending">3</a>' in html
    assert '<a href="/staff/deliveries/?state=retrying">1</a>' in html
    assert '<a href="/staff/deliveries/?state=dead">1</a>' in html
    assert '<a href="/staff/roleplays/?state=in_progress">2</a>' in html
    # The funnel for 7 days, and a link to 30.
    funnel = re.findall(r'<span class="hbar-value">(.*?)</span>', html)
    assert funnel == ["5", "4", "3", "1"]
    assert 'href="?days=30"' in html
    # Two bar charts of 14 days each, with today's bar labelled by its day of the month.
    assert html.count('<g class="bar ') == 28
    assert "<title>10: 2</title>" in html


def test_thirty_day_funnel_on_request(viewer_client, known_data):
    html = viewer_client.get("/staff/?days=30").content.decode()
    assert re.findall(r'<span class="hbar-value">(.*?)</span>', html) == ["6", "5", "4", "2"]
    assert 'href="?days=30" aria-current="true"' in html
    # Anything else is the default.
    html = viewer_client.get("/staff/?days=9999").content.decode()
    assert re.findall(r'<span class="hbar-value">(.*?)</span>', html) == ["5", "4", "3", "1"]


def test_htmx_refresh_gets_only_the_figures(viewer_client, known_data):
    response = viewer_client.get("/staff/?days=30", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="figures"')
    assert 'hx-trigger="every 30s"' in html and "?days=30" in html
    assert '<nav class="staff-nav"' not in html


def test_overview_in_persian_has_persian_digits_and_a_jalali_date(viewer_client, known_data):
    viewer_client.post("/staff/language/", {"language": "fa", "next": "/staff/"})
    html = viewer_client.get("/staff/").content.decode()
    assert 'dir="rtl"' in html
    assert figure(html, "exams-week") == "۴"
    assert "۱۴۰۴/۱۲/۱۹" in html  # 10 March 2026 is 19 Esfand 1404


def test_overview_needs_a_console_user(client, outsider_client, db):
    assert client.get("/staff/").status_code == 302
    assert outsider_client.get("/staff/").status_code == 403


def test_overview_queries_do_not_grow_with_data(viewer_client, world, frozen):
    card = scorecard()

    def add(rows: int) -> None:
        for n in range(rows):
            quiz(world, end_at=NOW - timedelta(days=n % 10), passed=bool(n % 2))
            quiz(world, state="started", deadline_at=NOW + timedelta(minutes=5))
            assessment(world, completed_at=NOW - timedelta(days=n % 10))
            visit(card, started_at=NOW - timedelta(days=n % 20), completed=True, email="x@y.z")
            delivery(attempts=n % 2)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert viewer_client.get("/staff/").status_code == 200
        return len(captured)

    add(3)
    few = queries()
    add(40)
    assert queries() == few
    # The figures themselves: one aggregate per model.
    with CaptureQueriesContext(connection) as captured:
        figures.overview()
    assert len(captured) == 4
