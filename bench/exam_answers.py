"""Benchmark: answer saves from many concurrent candidates, and reading a launch.

Usage: .venv/bin/python bench/exam_answers.py [--threads 8] [--students 40] [--questions 50]
Runs on a throw-away SQLite file (WAL) unless DATABASE_URL is set; prints figures only.
"""

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("PORTAL_VAR_DIR", tempfile.mkdtemp(prefix="portal-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from portal.customers.models import ClientToken, Customer  # noqa: E402
from portal.exams import services  # noqa: E402
from portal.exams.models import Exam, Question  # noqa: E402


def setup(students: int, questions: int) -> tuple[str, list]:
    call_command("migrate", verbosity=0)
    customer = Customer.objects.create(name=f"Bench {time.time()}")
    token, raw = ClientToken.issue(customer=customer)
    exam = Exam.objects.create(
        customer=customer, title="Bench", number_of_question=questions, duration=120
    )
    Question.objects.bulk_create(
        Question(
            exam=exam,
            position=n,
            description=f"Q{n}",
            c1="a",
            c2="b",
            c3="c",
            c4="d",
            correct=n % 4 + 1,
            can_shuffle=True,
        )
        for n in range(questions)
    )
    launches = [
        services.launch_quiz(
            token=token,
            student_uuid=f"s{i}",
            mobile="",
            eurl=exam.pk,
            callback_url="https://client.example.com/cb",
        )[0]
        for i in range(students)
    ]
    return raw, launches


def save_all(launches, threads: int) -> tuple[int, int, list[float], float]:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    chunks = [launches[i::threads] for i in range(threads)]

    def work(chunk):
        nonlocal errors
        local = []
        for launch in chunk:
            for item in launch.quiz.items.all():
                started = time.perf_counter()
                try:
                    services.save_answer(launch=launch, question_id=item.question_id, answer="2")
                except Exception:  # noqa: BLE001 - counted and reported
                    with lock:
                        errors += 1
                local.append(time.perf_counter() - started)
        connection.close()
        with lock:
            latencies.extend(local)

    started = time.perf_counter()
    workers = [threading.Thread(target=work, args=(chunk,)) for chunk in chunks]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return len(latencies), errors, latencies, time.perf_counter() - started


def read_launch(raw: str, launch, repeat: int = 50) -> float:
    client = Client()
    started = time.perf_counter()
    for _ in range(repeat):
        response = client.get(f"/api/launch/{launch.launch_id}/", HTTP_X_CLIENT_TOKEN=raw)
        assert response.status_code == 200
    return (time.perf_counter() - started) / repeat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--questions", type=int, default=50)
    args = parser.parse_args()

    raw, launches = setup(args.students, args.questions)
    count, errors, latencies, elapsed = save_all(launches, args.threads)
    latencies.sort()
    print(f"database: {connection.vendor}")
    print(
        f"answer saves: {count} by {args.threads} threads in {elapsed:.2f} s "
        f"= {count / elapsed:.0f}/s, errors: {errors}"
    )
    print(
        f"save latency: median {statistics.median(latencies) * 1000:.1f} ms, "
        f"p95 {latencies[int(len(latencies) * 0.95)] * 1000:.1f} ms, "
        f"max {latencies[-1] * 1000:.1f} ms"
    )
    print(
        f"GET /api/launch/{{id}}/ with {args.questions} questions: "
        f"{read_launch(raw, launches[0]) * 1000:.1f} ms per request (in-process)"
    )


if __name__ == "__main__":
    main()
