"""One database's run, in its own process (`python -m bench.run CONFIG_JSON`; bench.__main__
starts it): prepare the database, seed it, serve it with gunicorn, measure the rounds and the
deliveries, and write the figures as JSON for the parent to print.

The environment (PORTAL_VAR_DIR or DATABASE_URL + HUEY_REDIS_URL, ...) is set by the parent;
Django is set up here, in main(), never at import: the client processes import this module too
(multiprocessing's spawn), and they must stay light.
"""

import json
import logging
import os
import sys
import time
import traceback
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bench import data, report, wire
from bench.load import Client, Tally
from bench.receiver import Receiver
from bench.server import Consumer, Gunicorn, children, environment, free_port, rss_mb

SCENARIOS = ("autosave", "storm", "scorecard", "submit", "deliveries")
DUPLICATE_SHARE = 0.15
MEMORY_LIMIT_MB = 150
FLOW_REQUESTS = 6  # start, 4 × save-progress, submit


STARTED = time.monotonic()


def log(config: dict, message: str) -> None:
    elapsed = time.monotonic() - STARTED
    print(f"[{config['database']} {elapsed:5.1f} s] {message}", file=sys.stderr, flush=True)


@dataclass
class Round:
    """One scenario's figures in one round."""

    rate: float
    latencies: list[float]
    errors: int
    ratio: float | None = None  # rate ÷ the floor's rate of this round
    extra: dict = field(default_factory=dict)


@dataclass
class Run:
    config: dict
    server: Gunicorn
    client: Client
    fixture: data.Fixture
    rounds: dict[str, list[Round]] = field(default_factory=lambda: defaultdict(list))
    checks: list[dict] = field(default_factory=list)
    samples: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    consumer: Consumer | None = None
    client_cpu: list[float] = field(default_factory=list)  # cores used, per floor measurement

    def wants(self, scenario: str) -> bool:
        return scenario in self.config["only"]

    def keep(self, name: str, tally: Tally, rate: float, floor_rate: float | None, **extra):
        ratio = rate / floor_rate if floor_rate else None
        self.rounds[name].append(Round(rate, tally.latencies, tally.errors, ratio, extra))
        self.samples += [f"{name}: {s}" for s in tally.samples][: max(0, 5 - len(self.samples))]
        return ratio


# --- the scenarios of one round -----------------------------------------------------------


def timed(run: Run, scenario: str, payload: dict, seed: int) -> Tally:
    config = run.config
    return run.client.timed(
        scenario,
        payload,
        threads=config["connections"] // config["processes"],
        seconds=config["seconds"],
        warmup=config["ramp"],
        seed=seed,
    )


def autosave_payload(run: Run) -> dict:
    return {
        "token": run.fixture.token,
        "launches": [[made.launch_id, made.question_ids] for made in run.fixture.autosave],
    }


def storm_items(run: Run, number: int, tag: str) -> tuple[list[list[dict]], int]:
    """`number` launches of the 50-question exam in groups: DUPLICATE_SHARE of them a second
    launch for a student and exam of the group (sent at the same moment as the first)."""
    twins = round(number * DUPLICATE_SHARE)
    students = number - twins
    every = students / twins if twins else float("inf")
    eurl = run.fixture.exams[data.AUTOSAVE_SIZE]
    groups, next_twin = [], 0.0
    for n in range(students):
        body = {
            "student_uuid": f"storm-{tag}-{n}",
            "mobile": f"0912{n:07d}",
            "eurl": eurl,
            "callback_url": data.CALLBACK,
        }
        if n >= next_twin and next_twin < twins * every:
            groups.append([body, dict(body)])
            next_twin += every
        else:
            groups.append([body])
    return groups, students


def storm_check(run: Run, tag: str, students: int, tally: Tally) -> tuple[bool, str]:
    """Exactly one Student per uuid and one started Quiz per student and exam, in the
    database; and every reply for one student named the same quiz."""
    from django.db.models import Count

    from portal.exams.models import Quiz, Student

    prefix = f"storm-{tag}-"
    per_uuid = Counter(
        Student.objects.filter(
            customer_id=run.fixture.customer_id, uuid__startswith=prefix
        ).values_list("uuid", flat=True)
    )
    started = (
        Quiz.objects.filter(
            student__customer_id=run.fixture.customer_id,
            student__uuid__startswith=prefix,
            exam_id=run.fixture.exams[data.AUTOSAVE_SIZE],
            state=Quiz.State.STARTED,
        )
        .values("student_id")
        .annotate(n=Count("id"))
    )
    quizzes_per_student = [row["n"] for row in started]
    replied: dict[str, set] = defaultdict(set)
    for student_uuid, quiz_id in tally.extra:
        replied[student_uuid].add(quiz_id)
    problems = []
    if len(per_uuid) != students or any(n != 1 for n in per_uuid.values()):
        problems.append(f"{len(per_uuid)} students for {students} uuids")
    if len(quizzes_per_student) != students or any(n != 1 for n in quizzes_per_student):
        extra = sum(n - 1 for n in quizzes_per_student)
        problems.append(f"{len(quizzes_per_student)} students with a quiz, {extra} extra quizzes")
    split = sum(1 for ids in replied.values() if len(ids) > 1)
    if split:
        problems.append(f"{split} students got two different quiz ids")
    return not problems, "; ".join(problems) or f"{students} students, one quiz each"


def submit_items(run: Run, round_number: int) -> tuple[list[dict], list[str]]:
    """Per size, interleaved: a submit of a fresh launch with every question answered, then
    the candidate's exam page (browser cookie) and the launch's API GET."""
    fixture, config = run.fixture, run.config
    token_headers = {"X-Client-Token": fixture.token}
    items, labels = [], []
    per_round = config["submits"]
    for n in range(per_round):
        for size in data.SIZES:
            made = fixture.submits[size][round_number * per_round + n]
            responses = [
                {"question_id": qid, "answer": str(i % 4 + 1), "done": "completed"}
                for i, qid in enumerate(made.question_ids)
            ]
            items.append(
                {
                    "method": "POST",
                    "path": f"/api/launch/{made.launch_id}/submit/",
                    "headers": token_headers | {"Content-Type": "application/json"},
                    "body": json.dumps({"responses": responses}).encode(),
                }
            )
            labels.append(f"submit {size}q")
    for n in range(config["gets"]):
        for size in (data.SIZES[0], data.SIZES[-1]):
            pages = fixture.pages[size]
            made = pages[n % len(pages)]
            items.append(
                {
                    "method": "GET",
                    "path": f"/exam/?launch={made.launch_id}",
                    "headers": {"Cookie": fixture.cookies[made.launch_id]},
                }
            )
            labels.append(f"exam page GET {size}q")
            path = f"/api/launch/{made.launch_id}/"
            items.append({"method": "GET", "path": path, "headers": token_headers})
            labels.append(f"launch GET {size}q")
    return items, labels


def one_round(run: Run, number: int) -> None:
    config, fixture = run.config, run.fixture
    seconds = config["seconds"]
    quiet_database()
    floor = timed(run, "floor", {}, seed=number)
    floor_rate = len(floor.latencies) / seconds
    run.keep("floor", floor, floor_rate, floor_rate)
    # How much of the machine the load client itself took while the floor ran.
    run.client_cpu.append(floor.cpu / (seconds + config["ramp"]))
    autosave_rate = None
    if run.wants("autosave"):
        quiet_database()
        tally = timed(run, "autosave", autosave_payload(run), seed=number)
        autosave_rate = len(tally.latencies) / seconds
        run.keep("autosave", tally, autosave_rate, floor_rate)
    if run.wants("storm"):
        log(config, "storm")
        tag = f"r{number}"
        groups, students = storm_items(run, config["storm"], tag)
        quiet_database()
        threads = config["connections"] // config["processes"]
        tally = run.client.count(
            "/api/integration/exams/launch/", fixture.token, groups, threads=threads
        )
        rate = tally.units / (tally.last - tally.first) if tally.units > 1 else 0.0
        ok, detail = storm_check(run, tag, students, tally)
        vs_autosave = rate / autosave_rate if autosave_rate else None
        run.keep("launch storm", tally, rate, floor_rate, vs_autosave=vs_autosave)
        run.checks.append(
            {
                "name": f"duplicates after launch storm, round {number + 1}",
                "value": f"{'ok' if ok else 'FAIL'}: {detail}",
                "ok": ok,
                "correctness": True,
            }
        )
    if run.wants("scorecard"):
        log(config, "scorecard")
        payload = {"steps": fixture.steps, "letter": "C"}
        quiet_database()
        tally = timed(run, "scorecard", payload, seed=number)
        rate = len(tally.latencies) / seconds
        # A flow is 6 requests; counting whole flows inside a short window would undercount.
        run.keep("scorecard flow", tally, rate, floor_rate, flows=rate / FLOW_REQUESTS)
    if run.wants("submit"):
        log(config, "submit")
        items, labels = submit_items(run, number)
        quiet_database()
        tally = run.client.sequence(items)
        by_label: dict[str, list[float]] = defaultdict(list)
        for label, latency in zip(labels, tally.extra, strict=True):
            if latency is not None:
                by_label[label].append(latency)
        for label in dict.fromkeys(labels):
            errors = labels.count(label) - len(by_label[label])
            values = by_label[label]
            rate = len(values) / sum(values) if values else 0.0
            run.keep(label, Tally(latencies=values, errors=errors), rate, None)
        run.samples += tally.samples[: max(0, 5 - len(run.samples))]


# --- deliveries: one consumer against a plain httpx loop ----------------------------------


def delivery_payload(n: int) -> dict:
    """About the size of a roleplay results submission."""
    return {
        "event": "results_submission",
        "assessment_id": f"bench-{n}",
        "user_id": f"EMP_{n:05d}",
        "completed_at": "2026-01-01T10:00:00Z",
        "scores": {f"C{c}": {"score": c * 7 % 10, "max": 10} for c in range(12)},
        "roleplays": [{"roleplay_id": f"rp-{r}", "answers": list(range(20))} for r in range(3)],
    }


def enqueue(partner, count: int, first: int) -> tuple[list[int], list[str], float]:
    """`count` results webhooks for the partner, in one transaction as the portal queues
    them; returns their ids, webhook ids and the moment the transaction committed."""
    from django.db import transaction

    from integrations.deliveries import enqueue_delivery
    from portal.partners.models import ROUTE_RESULTS

    committed: list[float] = []
    with transaction.atomic():
        # Registered first, so it runs first after the commit, before the task enqueues.
        transaction.on_commit(lambda: committed.append(time.time()))
        made = [
            enqueue_delivery(
                kind="results_submission",
                target_url=partner.default_results_url(),
                payload=delivery_payload(first + n),
                signing_secret=partner.webhook_secret,
                allowed_hosts=partner.hosts,
                route=partner.route(ROUTE_RESULTS),
            )
            for n in range(count)
        ]
    return [d.pk for d in made], [str(d.webhook_id) for d in made], committed[0]


def arrivals(receiver: Receiver) -> dict[str, float]:
    reply = wire.request(receiver.port, "GET", "/stats")
    return json.loads(reply.body)["arrivals"]


def wait_arrived(receiver: Receiver, webhook_ids: list[str], timeout: float) -> dict[str, float]:
    deadline = time.monotonic() + timeout
    while True:
        seen = arrivals(receiver)
        if all(w in seen for w in webhook_ids) or time.monotonic() > deadline:
            return seen
        time.sleep(0.05)


def httpx_loop(partner, count: int) -> tuple[float, int]:
    """The deliveries' floor: the same signed POSTs, one after another, one shared client."""
    import httpx

    from integrations import signing

    url = partner.default_results_url()
    bodies = [json.dumps(delivery_payload(n), separators=(",", ":")).encode() for n in range(count)]
    errors = 0
    started = time.monotonic()
    with httpx.Client(timeout=10) as client:
        for body in bodies:
            headers = {
                "Content-Type": "application/json",
                **signing.webhook_headers(
                    webhook_id=str(uuid.uuid4()), body=body, secrets=partner.webhook_secrets
                ),
            }
            reply = client.post(url, content=body, headers=headers)
            errors += reply.status_code != 200 or reply.json().get("success") is not True
    return count / (time.monotonic() - started), errors


def start_consumer(run: Run, env: dict, workdir: Path) -> None:
    """The consumer runs from before the first round, as on exam day, so that by the time the
    deliveries are measured it has idled (and backed off its polling) for a while."""
    from integrations.models import Delivery
    from portal.partners.models import Partner

    run.consumer = Consumer(env, workdir / "consumer.log")
    assert run.fixture.partner_id is not None  # made with the receiver the deliveries go to
    # Warm-up: the consumer is up and has sent one (its start is not what we measure).
    ids, _warm, _t = enqueue(Partner.objects.get(pk=run.fixture.partner_id), 1, 0)
    deadline = time.monotonic() + 90
    while (warm := Delivery.objects.get(pk=ids[0])).status != Delivery.Status.DELIVERED:
        if warm.last_error or time.monotonic() > deadline:
            error = warm.last_error or "nothing in 90 s"
            raise RuntimeError(f"the consumer could not deliver: {error} (see consumer.log)")
        time.sleep(0.05)


def deliveries(run: Run, receiver: Receiver) -> None:
    """Commit → first attempt latency (the first of the singles finds the consumer idle since
    the warm-up), then rounds of N deliveries through the consumer, each between two runs of
    the httpx loop (loop, consumer, loop, consumer, …, loop), as the other scenarios' rounds
    are interleaved with the floor's."""
    from portal.partners.models import Partner

    config = run.config
    assert run.fixture.partner_id is not None  # made with the receiver the deliveries go to
    partner = Partner.objects.get(pk=run.fixture.partner_id)
    log(config, "commit → first attempt")
    singles: list[tuple[str, float]] = []
    for n in range(config["singles"]):
        _ids, webhook_ids, committed = enqueue(partner, 1, 1 + n)
        singles.append((webhook_ids[0], committed))
        time.sleep(0.2)
    seen = wait_arrived(receiver, [w for w, _ in singles], 30)
    waits = [seen[w] - t for w, t in singles if w in seen]
    missing = len(singles) - len(waits)
    p95 = report.percentile(waits, 95)
    limit = 1.0 if config["database"] == "postgres" else 2.0
    run.checks.append(
        {
            "name": "commit → first attempt p95",
            "value": f"{report.ms(p95)} ms over {len(singles)} single deliveries "
            f"(max {report.ms(max(waits, default=None))} ms)"
            + (f", {missing} never arrived" if missing else ""),
            "goal": f"< {limit:g} s",
            "ok": p95 is not None and p95 < limit and not missing,
        }
    )
    quiet_database()
    count = config["deliveries"]
    before, errors = httpx_loop(partner, count)
    lags: list[float] = []
    for number in range(config["rounds"]):
        log(config, f"{count} deliveries, round {number + 1}/{config['rounds']}")
        rate, delivered, lag = consumer_round(run, partner, count, 1000 + number * count)
        lags.append(lag)
        after, more_errors = httpx_loop(partner, count)
        # Each round's consumer against the loops just before and after it (the loop's rate
        # drifts with the machine as the floor's does).
        run.rounds["deliveries (consumer)"].append(
            Round(rate, [], count - delivered, rate / ((before + after) / 2), {})
        )
        run.rounds["deliveries httpx loop"].append(Round(after, [], errors + more_errors, 1.0, {}))
        before, errors = after, 0
        if delivered < count:
            run.notes.append(
                f"{count - delivered} of {count} deliveries not delivered after "
                f"{config['delivery_timeout']} s"
            )
            break
    run.notes.append(
        "deliveries: the consumer's first attempt of a batch began "
        f"{report.ms(report.median(lags))} ms after its commit (median of the rounds)"
    )


def quiet_database() -> None:
    """What ran before flushed from the write-ahead log to the tables, before each scenario is
    measured: each then pays for the checkpoints of its own writes, not for those of the
    scenario before it. Which one met a checkpoint was otherwise an accident of their order:
    the floor followed the submits and the autosave the floor, each taking on the storm's and
    the scorecard's debt by turns, and the consumer's deliveries met the checkpoint the rounds
    had set off while the httpx loop, which writes nothing, never did (docs/performance.md,
    fifteenth and sixteenth rounds)."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("CHECKPOINT")
        else:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def consumer_round(run: Run, partner, count: int, first: int) -> tuple[float, int, float]:
    """`count` deliveries queued in one transaction; the consumer's rate, how many it
    delivered before the timeout, and how long after the commit its first attempt began."""
    from django.db.models import Max, Min

    from integrations.models import Delivery, DeliveryAttempt

    config = run.config
    ids, _webhook_ids, committed = enqueue(partner, count, first)
    deadline = time.monotonic() + config["delivery_timeout"]
    # Polled by their key range (the batch's ids are the newest): a cheap query, where one
    # naming all the ids cost the runner milliseconds of CPU per poll, on the two cores the
    # consumer needs. Those that follow name them all.
    batch = Delivery.objects.filter(pk__gte=min(ids), pk__lte=max(ids))
    while time.monotonic() < deadline:
        if batch.filter(status=Delivery.Status.DELIVERED).count() == count:
            break
        time.sleep(0.05)
    mine = Delivery.objects.filter(pk__in=ids, status=Delivery.Status.DELIVERED)
    delivered = mine.count()
    # The consumer's rate once it is sending: from its first attempt (not from the commit: how
    # soon a worker wakes for a commit is the latency measured above, and on SQLite, where an
    # idle worker polls every 0.5 s at most, it was a random 0-0.5 s of this one-second
    # window) until the last one was recorded delivered (not until the poll noticed it). Both
    # times are the consumer's own records, on this machine's clock.
    times = mine.aggregate(last=Max("delivered_at"))
    times |= DeliveryAttempt.objects.filter(delivery_id__in=ids).aggregate(first=Min("started_at"))
    first_attempt = times["first"].timestamp() if times["first"] else committed
    elapsed = (times["last"].timestamp() if times["last"] else time.time()) - first_attempt
    return delivered / elapsed, delivered, first_attempt - committed


# --- the table ----------------------------------------------------------------------------


def summarise(run: Run, memory: dict[str, float | None]) -> list[dict]:
    config = run.config
    postgres = config["database"] == "postgres"
    rows = []

    def row(name: str, *, unit: str = "/s", goal: str = "", ok=None, ratio=True) -> dict:
        rounds = run.rounds[name]
        latencies = [v for r in rounds for v in r.latencies]
        made = {
            "name": name,
            "rate": f"{report.num(report.median([r.rate for r in rounds]), 1)}{unit}",
            "p50": report.percentile(latencies, 50),
            "p99": report.percentile(latencies, 99),
            "errors": sum(r.errors for r in rounds),
            "ratio": report.median([r.ratio for r in rounds]) if ratio else None,
            "goal": goal,
            "ok": ok,
        }
        rows.append(made)
        return made

    if run.rounds["floor"]:
        row("floor", unit=" req/s")
    if run.rounds["autosave"]:
        target = 0.8 if postgres else 0.85
        ratio = report.median([r.ratio for r in run.rounds["autosave"]])
        made = row("autosave", unit=" req/s", goal=f"≥ {target:g}, p99 < 100 ms, 0 errors")
        made["ok"] = (
            ratio is not None
            and ratio >= target
            and (made["p99"] or 0) < 0.1
            and made["errors"] == 0
        )
    if run.rounds["launch storm"]:
        vs = report.median([r.extra.get("vs_autosave") for r in run.rounds["launch storm"]])
        made = row("launch storm", unit=" launches/s", goal=f"≥ 0.5 × autosave ({report.num(vs)})")
        dup_ok = all(c["ok"] for c in run.checks if c["name"].startswith("duplicates"))
        made["ok"] = vs is not None and vs >= 0.5 and dup_ok and made["errors"] == 0
    if run.rounds["scorecard flow"]:
        flows = report.median([r.extra["flows"] for r in run.rounds["scorecard flow"]])
        made = row("scorecard flow", unit=" req/s", goal="≥ 0.5 per request")
        made["rate"] += f" ({report.num(flows, 1)} flows/s)"
        made["ok"] = (made["ratio"] or 0) >= 0.5 and made["errors"] == 0
    p50 = {}
    sequential = ("submit", "exam page GET", "launch GET")
    labels = [f"{kind} {size}q" for kind in sequential for size in data.SIZES]
    for label in [name for name in labels if run.rounds.get(name)]:
        made = row(label, unit=" req/s", ratio=False)
        p50[label] = made["p50"]
        kind, size = label.rsplit(" ", 1)
        base = p50.get(f"{kind} {data.SIZES[0]}q")
        if size == f"{data.SIZES[-1]}q" and base and made["p50"] and not kind.startswith("launch"):
            times = made["p50"] / base
            made["goal"] = f"p50 ≤ 2 × {data.SIZES[0]}q ({times:.2f}×)"
            made["ok"] = times <= 2
    if run.rounds["deliveries (consumer)"]:
        made = row("deliveries (consumer)", unit=" /s", goal="≥ 0.5 × httpx loop")
        made["ok"] = (made["ratio"] or 0) >= 0.5 and made["errors"] == 0
        row("deliveries httpx loop", unit=" /s")
    for label in ("submit", "exam page GET", "launch GET"):
        small, large = p50.get(f"{label} {data.SIZES[0]}q"), p50.get(f"{label} {data.SIZES[-1]}q")
        if small and large:
            entry = {
                "name": f"{label} {data.SIZES[-1]}q vs {data.SIZES[0]}q (p50)",
                "value": f"{large / small:.2f}×",
            }
            if label != "launch GET":
                entry |= {"goal": "≤ 2×", "ok": large / small <= 2}
            run.checks.append(entry)
    # The table gives each ratio's median over the rounds; their spread says how far this
    # machine swung during the run (docs/performance.md, "Reading the figures").
    spreads = [
        (f"{name} ÷ floor", [r.ratio for r in rounds])
        for name, rounds in run.rounds.items()
        if name != "floor" and not name.endswith("httpx loop")  # always 1
    ]
    storm = run.rounds["launch storm"]
    spreads.append(("launch storm ÷ autosave", [r.extra.get("vs_autosave") for r in storm]))
    for label, ratios in spreads:
        shown = [report.num(ratio) for ratio in ratios if ratio is not None]
        if len(shown) > 1:
            run.notes.append(f"{label}, round by round: {' '.join(shown)}")
    if run.client_cpu:
        cores = report.median(run.client_cpu)
        run.notes.append(
            f"the load client used {cores:.2f} of a core while the floor ran "
            f"({config['processes']} processes)"
        )
    for name, mb in memory.items():
        run.checks.append(
            {
                "name": f"memory {name}",
                "value": "gone" if mb is None else f"{mb:.0f} MB",
                "goal": f"< {MEMORY_LIMIT_MB} MB",
                "ok": mb is not None and mb < MEMORY_LIMIT_MB,
            }
        )
    return rows


# --- the run ------------------------------------------------------------------------------


def prepare_postgres(config: dict) -> None:
    """A fresh portal_bench database and an empty Redis db (before Django connects)."""
    import psycopg
    import redis

    with psycopg.connect(config["admin_dsn"], autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {config['pg_name']} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {config['pg_name']}")
    redis.Redis.from_url(config["redis_url"]).flushdb()


def drop_postgres(config: dict) -> None:
    import psycopg

    with psycopg.connect(config["admin_dsn"], autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {config['pg_name']} WITH (FORCE)")


def main(config: dict) -> dict:
    import django

    started = time.monotonic()
    workdir = Path(config["workdir"])
    port = free_port()
    env = environment(config["env"] | {"PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"})
    for name in set(os.environ) - set(env):  # e.g. a DATABASE_URL the SQLite run must not see
        del os.environ[name]
    os.environ.update(env)
    # The static files collected once for all runs (bench.__main__.collect_static).
    if config["static"]:
        (workdir / "var").mkdir(parents=True, exist_ok=True)
        target = Path(config["static"]) / "var" / "staticfiles"
        (workdir / "var" / "staticfiles").symlink_to(target)
    if config["database"] == "postgres":
        prepare_postgres(config)
    django.setup()
    # The runner's own requests (the httpx loop) are not news.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    from django.core.management import call_command
    from django.db import connection

    log(config, "migrate")
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    receiver = Receiver() if "deliveries" in config["only"] else None
    log(config, "seed")
    wants_submit = "submit" in config["only"]
    autosave_launches = config["connections"] * config["launches_per_connection"]
    fixture = data.create(
        autosave_launches=autosave_launches if "autosave" in config["only"] else 0,
        submits_per_size=config["submits"] * config["rounds"] if wants_submit else 0,
        pages_per_size=min(config["gets"], 4) if wants_submit else 0,
        scorecard="scorecard" in config["only"],
        receiver_url=receiver.base_url if receiver else None,
    )
    connection.close()  # the server's workers and the consumer have their own
    if config["static"]:
        wait_for_static(Path(config["static"]))
    server = Gunicorn(env, workdir / "gunicorn.log", port)
    client = Client(server.port, config["processes"])
    run = Run(config, server, client, fixture)
    try:
        for launches in fixture.pages.values():
            for made in launches:
                fixture.cookies[made.launch_id] = data.claim(server.port, made.launch_id)
        log(config, "warm up")
        if receiver is not None:
            start_consumer(run, env, workdir)
        warm_up(run)
        for number in range(config["rounds"]):
            log(config, f"round {number + 1}/{config['rounds']}")
            one_round(run, number)
        if receiver is not None:
            log(config, "deliveries")
            deliveries(run, receiver)
        memory = {f"web worker {n + 1}": rss_mb(pid) for n, pid in enumerate(server.workers())}
        if run.consumer is not None:
            memory["consumer"] = rss_mb(run.consumer.pid)
            # Its workers and scheduler are processes of their own (settings.HUEY).
            for n, pid in enumerate(children(run.consumer.pid)):
                memory[f"consumer process {n + 1}"] = rss_mb(pid)
        rows = summarise(run, memory)
    finally:
        client.close()
        if run.consumer is not None:
            run.consumer.stop()
        server.stop()
        if receiver is not None:
            receiver.close()
        connection.close()
        if config["database"] == "postgres":
            drop_postgres(config)
    return {
        "database": config["database"],
        "rounds": config["rounds"],
        "seconds": config["seconds"],
        "connections": config["connections"],
        "workers": 2,
        "rows": rows,
        "checks": run.checks,
        "samples": run.samples,
        "notes": run.notes,
        "elapsed": time.monotonic() - started,
        "failed": any(r["errors"] for r in rows)
        or any(not c["ok"] for c in run.checks if c.get("correctness")),
    }


def wait_for_static(static: Path, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not (static / "status").exists():
        if time.monotonic() > deadline:
            raise RuntimeError("collectstatic did not finish in time")
        time.sleep(0.2)
    if (static / "status").read_text().strip() != "0":
        log_text = (static / "collectstatic.log").read_text()[-2000:]
        raise RuntimeError(f"collectstatic failed:\n{log_text}")


def warm_up(run: Run) -> None:
    """Every worker imports, compiles and connects before anything is measured."""
    seconds = run.config["warmup"]
    run.client.timed("floor", {}, threads=4, seconds=seconds, warmup=0, seed=999)
    if run.wants("autosave"):
        run.client.timed(
            "autosave", autosave_payload(run), threads=4, seconds=seconds, warmup=0, seed=999
        )
    if run.wants("scorecard"):
        payload = {"steps": run.fixture.steps, "letter": "C"}
        run.client.timed("scorecard", payload, threads=2, seconds=seconds, warmup=0, seed=255)
    if run.wants("storm"):
        groups, _students = storm_items(run, 20, "warm")
        run.client.count("/api/integration/exams/launch/", run.fixture.token, groups, threads=4)
    if run.wants("submit"):
        items, _labels = submit_items(run, 0)
        gets = [item for item in items if item["method"] == "GET"]
        run.client.sequence(gets[:8])


if __name__ == "__main__":
    settings = json.loads(sys.argv[1])
    try:
        outcome = main(settings)
    except Exception:  # the parent reports it and goes on to the next database
        outcome = {"database": settings["database"], "crash": traceback.format_exc()}
    Path(settings["result"]).write_text(json.dumps(outcome))
