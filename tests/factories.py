"""Builders shared by the tests (fixtures live in conftest.py)."""

import copy
import os
import signal
import socket
import subprocess
import threading
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.customers.models import Customer
from portal.exams import services as exam_services
from portal.exams.models import Exam, Question, Quiz, QuizQuestion
from portal.scorecards.models import Scorecard

CALLBACK = "https://client.example.com/exam/callback"


def make_exam(customer: Customer, *, questions: int = 5, shuffle: bool = False, **fields) -> Exam:
    """An exam whose right answer to question n is choice ((n - 1) % 4) + 1 (its choices shown
    in each quiz's own order with `shuffle`)."""
    defaults = {
        "title": "Sample exam",
        "language": "en",
        "accept_score": 60,
        "number_of_question": questions,
        "duration": 30,
        "can_back": True,
    }
    exam = Exam.objects.create(customer=customer, **(defaults | fields))
    Question.objects.bulk_create(
        Question(
            exam=exam,
            position=n,
            description=f"Question {n}?",
            c1=f"q{n} choice one",
            c2=f"q{n} choice two",
            c3=f"q{n} choice three",
            c4=f"q{n} choice four",
            correct=(n - 1) % 4 + 1,
            weight=1.0,
            can_shuffle=shuffle,
        )
        for n in range(1, questions + 1)
    )
    return exam


def written_items(quiz: Quiz | int):
    """A quiz's item rows, written first if its launch left them pending (as its first save,
    flag or finish does): for tests that read or set items as rows."""
    pk = quiz if isinstance(quiz, int) else quiz.pk
    exam_services.write_pending_items(Quiz.objects.filter(pk=pk))
    return QuizQuestion.objects.filter(quiz_id=pk)


def drawn_ids(quiz: Quiz | None = None) -> list[int]:
    """The questions a quiz (the only one, unless named) drew, in the order its candidate
    sees them, whether its items are written or still pending."""
    return [item.question_id for item in exam_services.quiz_items(quiz or Quiz.objects.get())]


def broken(document: dict, change: Callable[[dict], None]) -> dict:
    """A deep copy of `document` with `change` made to it."""
    copied = copy.deepcopy(document)
    change(copied)
    return copied


def set_at(path: Sequence, value) -> Callable[[dict], None]:
    """A change for `broken`: `value` at `path` (keys and list indexes) of the document."""

    def change(document: dict) -> None:
        target = document
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return change


def at_once(count: int, call: Callable[[int], object]) -> list:
    """Run call(0..count-1) in threads released at the same moment by a barrier, each closing
    its database connection after. Returns what each call returned or the exception it raised
    (None for a thread still running after a minute)."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = call(index)
        except BaseException as error:  # reported in the test's thread
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def queries_of(client, url: str) -> int:
    """How many queries a GET of `url` takes; it must answer 200."""
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def free_port() -> int:
    """A port on 127.0.0.1 where nothing listens (yet)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def on_postgres() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith(("postgres", "postgresql"))


def make_cluster(*, partner_hosts: str = "q3.example.com", base_url: str = "") -> tuple:
    """A two-roleplay cluster with branching talks and a 16PF trait, and a partner for it (at
    `base_url`, by default https:// and its first allowed host).

    Roleplay 1 ("Complaint"): Alex (turns a1 → a2) and Sam (turn s1); competencies CUST
    (max 6) and CALM (max 5). Option marks: a1 "good" → a2 {CUST: 3}, a1 "poor" ends {CUST: -1};
    a2 "good" {CUST: 5, CALM: 1}, a2 "fair" {CUST: 1}; s1 "good" {CALM: 4}, s1 "poor" {}.
    Roleplay 2 ("Conflict"): Kim (turn k1); CONF (max 10) and a 16PF trait DOM measured by two
    Likert items, the second reverse-keyed, norms 2..10.
    Returns (cluster, partner, options) with options by name, e.g. options["a1 good"].
    """
    from portal.partners.models import Partner
    from portal.roleplays.models import (
        Cluster,
        Competency,
        LikertItem,
        Option,
        Roleplay,
        Stakeholder,
        Turn,
    )

    cluster = Cluster.objects.create(
        cluster_id="test-cl-001", cluster_name="Test Cluster", cluster_type="Leadership"
    )
    rp1 = Roleplay.objects.create(
        cluster=cluster,
        position=1,
        roleplay_id="rp-complaint",
        roleplay_name="Complaint",
        total_time_minutes=20,
        scenario="A customer is unhappy.",
    )
    rp2 = Roleplay.objects.create(
        cluster=cluster,
        position=2,
        roleplay_id="rp-conflict",
        roleplay_name="Conflict",
        total_time_minutes=25,
        scenario="Two colleagues disagree.",
    )
    Competency.objects.create(
        roleplay=rp1, position=1, code="CUST", name="Customer Focus", max_score=6
    )
    Competency.objects.create(roleplay=rp1, position=2, code="CALM", name="Composure", max_score=5)
    Competency.objects.create(roleplay=rp2, position=1, code="CONF", name="Conflict", max_score=10)
    dom = Competency.objects.create(
        roleplay=rp2,
        position=2,
        code="DOM",
        name="Dominance (16PF E)",
        kind="16pf",
        max_score=10,
        norm_table=[2, 3, 4, 5, 6, 7, 8, 9, 10],
    )
    LikertItem.objects.create(competency=dom, position=1, statement="I take charge.")
    LikertItem.objects.create(
        competency=dom, position=2, statement="I avoid arguments.", reverse=True
    )
    alex = Stakeholder.objects.create(roleplay=rp1, position=1, name="Alex", role="Customer")
    sam = Stakeholder.objects.create(roleplay=rp1, position=2, name="Sam", role="Agent")
    kim = Stakeholder.objects.create(roleplay=rp2, position=1, name="Kim", role="Team member")
    a1 = Turn.objects.create(
        stakeholder=alex, key="a1", position=1, message="This is unacceptable!"
    )
    a2 = Turn.objects.create(stakeholder=alex, key="a2", position=2, message="So what now?")
    s1 = Turn.objects.create(stakeholder=sam, key="s1", position=1, message="It was my fault.")
    k1 = Turn.objects.create(stakeholder=kim, key="k1", position=1, message="I do all the work.")
    spec = [
        ("a1 good", a1, "I understand, let me fix it.", {"CUST": 3}, a2),
        ("a1 poor", a1, "Calm down.", {"CUST": -1}, None),
        ("a2 good", a2, "A refund today and a follow-up call.", {"CUST": 5, "CALM": 1}, None),
        ("a2 fair", a2, "I will look into it.", {"CUST": 1}, None),
        ("s1 good", s1, "Let's learn from it together.", {"CALM": 4}, None),
        ("s1 poor", s1, "This can't happen again.", {}, None),
        ("k1 good", k1, "Let's look at the workload together.", {"CONF": 7}, None),
        ("k1 poor", k1, "Sort it out yourselves.", {"CONF": 0}, None),
    ]
    options = {
        name: Option.objects.create(turn=turn, position=i, text=text, marks=marks, next_turn=nxt)
        for i, (name, turn, text, marks, nxt) in enumerate(spec, start=1)
    }
    partner = Partner.objects.create(
        name="Q3 Test",
        jwt_secret="x" * 40,
        base_url=base_url or f"https://{partner_hosts.split(',')[0]}",
        allowed_hosts=partner_hosts,
    )
    partner.clusters.add(cluster)
    return cluster, partner, options


def make_small_cluster(
    cluster_id: str = "b4bf406c-4f9",
    *,
    cluster_name: str = "Leadership",
    with_roleplay: bool = True,
    **fields,
):
    """A cluster with one plain roleplay (or none), for tests about who may launch or see a
    cluster rather than about taking it; make_cluster builds one worth taking."""
    from portal.roleplays.models import Cluster, Roleplay

    cluster = Cluster.objects.create(
        cluster_id=cluster_id, cluster_name=cluster_name, cluster_type="Leadership", **fields
    )
    if with_roleplay:
        Roleplay.objects.create(
            cluster=cluster,
            roleplay_name="The unhappy customer",
            total_time_minutes=10,
            scenario="A customer calls about a late delivery.",
        )
    return cluster


def make_assessment(cluster, partner, *, user_id: str = "EMP_789"):
    from portal.roleplays.models import Assessment

    return Assessment.objects.create(
        partner=partner,
        cluster=cluster,
        user_id=user_id,
        user_name="johndoe",
        return_url=f"{partner.base_url}/dashboard",
        results_url=partner.default_results_url(),
    )


def sign_in(page, portal, user, language: str = "en"):
    """Sign a staff user in through the console's own form on `page`; returns the page."""
    from tests.conftest import PASSWORD

    page.goto(f"{portal.url}/staff/login/")
    if language == "fa":
        page.get_by_role("button", name="فارسی").click()
    page.locator("input[name=username]").fill(user.get_username())
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button.primary").click()
    page.wait_for_url(f"{portal.url}/staff/")
    return page


def sign_in_without_javascript(chromium, portal, user):
    """A staff user signed in through the console's form in a browser with JavaScript off
    (downloads accepted, for the exports); returns (context, page), the caller closes it."""
    context = chromium.new_context(java_script_enabled=False, accept_downloads=True)
    context.set_default_timeout(15_000)
    return context, sign_in(context.new_page(), portal, user)


def stop(process: subprocess.Popen, timeout: float, *, group: bool = False) -> None:
    """SIGTERM, then SIGKILL if it hasn't ended within `timeout` seconds; with `group`, to its
    whole process group (it was started with start_new_session=True)."""

    def send(signum: int) -> None:
        if group:
            os.killpg(process.pid, signum)
        else:
            process.send_signal(signum)

    send(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        send(signal.SIGKILL)
        process.wait()


def sqlite_connection(path: str, **options) -> Any:
    """A connection of the portal's SQLite backend (portal/sqlite) to the file at `path`, with
    these OPTIONS: not one of the configured databases, whichever the suite runs on."""
    from portal.sqlite.base import DatabaseWrapper

    return DatabaseWrapper(
        {
            "ENGINE": "portal.sqlite",
            "NAME": path,
            "OPTIONS": options,
            "TIME_ZONE": None,
            "CONN_MAX_AGE": 0,
            "CONN_HEALTH_CHECKS": False,
            "AUTOCOMMIT": True,
            "ATOMIC_REQUESTS": False,
            "TEST": {},
            "USER": "",
            "PASSWORD": "",
            "HOST": "",
            "PORT": "",
        }
    )


def broken_database() -> Any:
    """A real database connection that can't open its file (a directory that doesn't exist):
    what a probe sees when the database is down."""
    return sqlite_connection("/nonexistent-directory/portal.sqlite3")


def qids(scorecard: Scorecard) -> list[list[str]]:
    """The scorecard's question ids, a list per step."""
    return [[q.qid for q in s.questions.all()] for s in scorecard.sections.order_by("step")]


def results_payload(roleplays: list[dict] | None = None) -> dict:
    """A results_submission body as the seed 000 guide describes it (one roleplay, one
    competency), or with the given roleplays."""
    return {
        "cluster_id": "b4bf406c-4f9",
        "cluster_name": "Customer Leadership Assessment",
        "cluster_type": "Leadership",
        "user_id": "EMP_789",
        "user_name": "johndoe",
        "roleplays": roleplays
        or [
            roleplay_result(
                [
                    {
                        "competency_code": "CUST_FOCUS",
                        "competency_name": "Customer Focus",
                        "max_marks": 10,
                        "marks_obtained": 7,
                    }
                ]
            )
        ],
    }


def roleplay_result(competencies: list[dict], **fields) -> dict:
    """One roleplay of a results_submission body, the seed 000 guide's, with these
    competencies (and `fields` in place of its own)."""
    return {
        "roleplay_id": "rp-1",
        "roleplay_name": "Escalated Customer Complaint",
        "stakeholders": "02",
        "max_time": 20,
        "time_taken": 12.5,
        "competencies": competencies,
    } | fields
