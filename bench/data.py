"""The benchmark's data, made with the ORM and the services in the runner process: a customer
and its client token, exams of 10/50/200 questions, launches, the scorecard content, a partner
whose webhook is the receiver; and the browser claim of a launch, over HTTP. Django is imported
inside the functions: the load client's processes import this module too, and stay light.
"""

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

from bench import wire

SIZES = (10, 50, 200)
AUTOSAVE_SIZE = 50  # the exam of exam day: autosave and the launch storm use it
CALLBACK = "https://client.example.com/exam/callback"
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Launched:
    launch_id: str
    question_ids: list[int]


@dataclass
class Fixture:
    token: str  # the plain client token, as a customer's server sends it
    customer_id: int
    exams: dict[int, int]  # questions → exam id (eurl)
    autosave: list[Launched] = field(default_factory=list)
    submits: dict[int, list[Launched]] = field(default_factory=dict)  # consumed, one per submit
    pages: dict[int, list[Launched]] = field(default_factory=dict)  # claimed for page GETs
    cookies: dict[str, str] = field(default_factory=dict)  # launch id → browser cookie header
    steps: Sequence[Sequence[str]] = field(default_factory=list)  # scorecard question ids per step
    partner_id: int | None = None


def create_floor_table() -> None:
    from django.db import connection

    from bench.floor import FLOOR_TABLE_SQL

    with connection.cursor() as cursor:
        cursor.execute(FLOOR_TABLE_SQL)


def make_exam(customer, questions: int):
    """An exam as customers write them: four choices, shuffled, answers may be changed (the
    suite's builder, tests/factories.py), with a deadline no run reaches."""
    from tests.factories import make_exam as build

    return build(
        customer,
        questions=questions,
        shuffle=True,
        title=f"Bench exam, {questions} questions",
        duration=600,  # ten hours: no deadline passes during a run
    )


def launch(token, eurl: int, student_uuid: str) -> Launched:
    from portal.exams import services

    made, _existing = services.launch_quiz(
        token=token, student_uuid=student_uuid, mobile="", eurl=eurl, callback_url=CALLBACK
    )
    question_ids = [item.question_id for item in services.quiz_items(made.quiz)]
    return Launched(str(made.launch_id), question_ids)


def create(
    *,
    autosave_launches: int,
    submits_per_size: int,
    pages_per_size: int,
    scorecard: bool,
    receiver_url: str | None,
) -> Fixture:
    from portal.customers.models import ClientToken, Customer

    create_floor_table()
    customer = Customer.objects.create(name="Bench Academy")
    token, raw = ClientToken.issue(customer=customer, label="bench")
    exams = {size: make_exam(customer, size).pk for size in SIZES}
    fixture = Fixture(token=raw, customer_id=customer.pk, exams=exams)
    fixture.autosave = [
        launch(token, exams[AUTOSAVE_SIZE], f"autosave-{n}") for n in range(autosave_launches)
    ]
    for size in SIZES:
        fixture.submits[size] = [
            launch(token, exams[size], f"submit-{size}-{n}") for n in range(submits_per_size)
        ]
        fixture.pages[size] = [
            launch(token, exams[size], f"page-{size}-{n}") for n in range(pages_per_size)
        ]
    if scorecard:
        fixture.steps = load_scorecard()
    if receiver_url:
        fixture.partner_id = make_partner(receiver_url)
    return fixture


def load_scorecard() -> Sequence[Sequence[str]]:
    from portal.scorecards import services
    from portal.scorecards.content import load_scorecard as load
    from portal.scorecards.management.commands.load_scorecard import DEFAULT_FILE

    scorecard = load(json.loads(DEFAULT_FILE.read_text(encoding="utf-8")))
    return services.steps(scorecard)


def make_partner(receiver_url: str) -> int:
    from portal.partners.models import Partner

    partner = Partner.objects.create(
        name="Bench partner", jwt_secret="b" * 40, base_url=receiver_url
    )
    return partner.pk


def claim(port: int, launch_id: str) -> str:
    """Press Start as the candidate's browser does (GET the start page, POST its form with the
    CSRF token); return the Cookie header that then opens the exam page."""
    page = wire.request(port, "GET", f"/exam/?launch={launch_id}")
    match = CSRF_FIELD.search(page.body.decode())
    csrf_cookie = page.cookies().get("csrftoken", "")
    if page.status != 200 or match is None or not csrf_cookie:
        raise RuntimeError(f"the start page of {launch_id} answered {page.status}")
    started = wire.request(
        port,
        "POST",
        f"/exam/{launch_id}/start/",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={csrf_cookie}",
        },
        body=urlencode({"csrfmiddlewaretoken": match.group(1)}).encode(),
    )
    browser = started.cookies().get(f"exam-{launch_id}")
    if started.status != 302 or not browser:
        raise RuntimeError(f"Start of {launch_id} answered {started.status}")
    cookie = f"exam-{launch_id}={browser}; csrftoken={csrf_cookie}"
    opened = wire.request(port, "GET", f"/exam/?launch={launch_id}", headers={"Cookie": cookie})
    if opened.status != 200:
        raise RuntimeError(f"the exam page of {launch_id} answered {opened.status}")
    return cookie
