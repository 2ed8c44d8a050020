"""The load client: its own processes (spawned, no Django), each running threads of requests.

The runner starts `Client(port, processes=P)` once per server; each job is sent to every
process, whose T threads (P × T connections in all) run it and hand back latencies and error
counts. Three kinds of job:

- timed: every thread repeats its unit (one request, or a whole scorecard flow) from `start -
  warmup` until `start + seconds`; only requests that start and finish inside the window count.
- count: the threads of a process share a queue of items (the launch storm); neighbours in the
  queue are taken by two threads at the same moment, which is how duplicates are sent
  concurrently.
- sequence: one thread sends the items one after another (latency without queueing).

Clocks are time.monotonic(), which is one clock for every process of the machine.
"""

import contextlib
import json
import multiprocessing
import queue
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

from bench import wire

JSON = "application/json"
MAX_SAMPLES = 5  # error descriptions kept per job, to say what went wrong


@dataclass
class Tally:
    """What one thread (then one job, merged) measured."""

    latencies: list[float] = field(default_factory=list)  # seconds, counted requests only
    errors: int = 0
    samples: list[str] = field(default_factory=list)
    units: int = 0  # flows (or single requests) completed inside the window
    first: float = float("inf")
    last: float = 0.0
    extra: list = field(default_factory=list)
    cpu: float = 0.0  # seconds of the client processes' own CPU during the job

    def merge(self, other: "Tally") -> None:
        self.latencies += other.latencies
        self.errors += other.errors
        self.samples += other.samples[: MAX_SAMPLES - len(self.samples)]
        self.units += other.units
        self.first = min(self.first, other.first)
        self.last = max(self.last, other.last)
        self.extra += other.extra
        self.cpu += other.cpu

    def as_dict(self) -> dict:
        return self.__dict__ | {"samples": self.samples[:MAX_SAMPLES]}


class Recorder:
    """Sends requests for one thread and counts those inside the job's window."""

    def __init__(self, port: int, window: tuple[float, float]) -> None:
        self.port = port
        self.window = window
        self.tally = Tally()

    def send(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        expect: int = 200,
    ) -> wire.Reply | None:
        """The reply when it has the expected status; None (counted as an error) otherwise."""
        started = time.monotonic()
        try:
            reply = wire.request(self.port, method, path, headers=headers, body=body)
            failure = "" if reply.status == expect else f"{reply.status}: {reply.body[:200]!r}"
        except OSError as error:
            reply, failure = None, f"{type(error).__name__}: {error}"
        finished = time.monotonic()
        counted = self.window[0] <= started and finished <= self.window[1]
        if failure:
            # An error counts whenever it happens: none may hide in the warm-up.
            self.tally.errors += 1
            if len(self.tally.samples) < MAX_SAMPLES:
                self.tally.samples.append(f"{method} {path} → {failure}")
            return None
        if counted:
            self.tally.latencies.append(finished - started)
            self.tally.first = min(self.tally.first, started)
            self.tally.last = max(self.tally.last, finished)
        return reply

    def in_window(self) -> bool:
        return self.window[0] <= time.monotonic() <= self.window[1]


def _json(data: dict) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


# --- units: what one thread repeats --------------------------------------------------------

# The answer last sent per (launch, question), kept across jobs (each thread always gets the
# same items), so that every autosave changes the stored answer and really writes.
_last_answer: dict[tuple[str, int], int] = {}


def floor_unit(rec: Recorder, data: dict, slot: int, slots: int, seed: int) -> Callable:
    rng = random.Random(seed * 1000 + slot)
    headers = {"Content-Type": JSON}

    def unit() -> None:
        body = _json({"k": rng.randrange(1000)})
        if rec.send("POST", "/bench/floor/", headers=headers, body=body) and rec.in_window():
            rec.tally.units += 1

    return unit


def autosave_unit(rec: Recorder, data: dict, slot: int, slots: int, seed: int) -> Callable:
    """This thread's own launches (a candidate saves one answer at a time), question by
    question, each save a different answer than the last."""
    items = [
        (launch_id, question_id)
        for launch_id, question_ids in data["launches"][slot::slots]
        for question_id in question_ids
    ]
    headers = {"Content-Type": JSON, "X-Client-Token": data["token"]}
    position = 0

    def unit() -> None:
        nonlocal position
        launch_id, question_id = items[position % len(items)]
        position += 1
        answer = _last_answer.get((launch_id, question_id), 0) % 4 + 1
        _last_answer[(launch_id, question_id)] = answer
        body = _json({"question_id": question_id, "answer": str(answer), "done": "in_progress"})
        path = f"/api/launch/{launch_id}/answer/"
        if rec.send("POST", path, headers=headers, body=body) and rec.in_window():
            rec.tally.units += 1

    return unit


def scorecard_unit(rec: Recorder, data: dict, slot: int, slots: int, seed: int) -> Callable:
    """One visitor's whole assessment: start, save each of the 4 steps, submit. Each flow
    comes from its own address (X-Forwarded-For; the server trusts one proxy), as visitors
    on exam day do, so the per-IP limits (10 starts, 5 submits an hour) never stop it."""
    flows = 0

    def address() -> str:
        number = ((seed * slots + slot) * 4096 + flows) % (1 << 24)
        return f"10.{number >> 16}.{(number >> 8) & 255}.{number & 255}"

    def unit() -> None:
        nonlocal flows
        flows += 1
        headers = {"Content-Type": JSON, "X-Forwarded-For": address()}
        started = rec.send(
            "POST", "/api/assessment/start", headers=headers, body=_json({"company": "Bench"})
        )
        if started is None:
            return
        cookie = started.cookies().get("assessment-session", "")
        headers["Cookie"] = f"assessment-session={cookie}"
        for step, question_ids in enumerate(data["steps"]):
            answers = dict.fromkeys(question_ids, data["letter"])
            body = _json({"step": step, "responses": answers, "timeSpent": 30})
            saved = rec.send("POST", "/api/assessment/save-progress", headers=headers, body=body)
            if saved is None:
                return
        body = _json({"completionTime": 120})
        done = rec.send("POST", "/api/assessment/submit", headers=headers, body=body)
        if done is not None and rec.in_window():
            rec.tally.units += 1

    return unit


UNITS = {"floor": floor_unit, "autosave": autosave_unit, "scorecard": scorecard_unit}


# --- jobs ----------------------------------------------------------------------------------


def _wait_until(moment: float) -> None:
    delay = moment - time.monotonic()
    if delay > 0:
        time.sleep(delay)


def run_timed(job: dict, index: int, processes: int, port: int) -> Tally:
    start, threads = job["start"], job["threads"]
    window = (start, start + job["seconds"])
    recorders = [Recorder(port, window) for _ in range(threads)]

    def thread(number: int) -> None:
        rec = recorders[number]
        slot, slots = index * threads + number, processes * threads
        unit = UNITS[job["scenario"]](rec, job["data"], slot, slots, job["seed"])
        _wait_until(start - job["warmup"])
        while time.monotonic() < window[1]:
            unit()

    _run_threads(thread, threads)
    return _merged(recorders)


def run_count(job: dict, index: int, processes: int, port: int) -> Tally:
    """The launch storm: POST every item of this process's share once."""
    items: queue.SimpleQueue = queue.SimpleQueue()
    for item in job["items"]:
        items.put(item)
    recorders = [Recorder(port, (0.0, float("inf"))) for _ in range(job["threads"])]
    headers = {"Content-Type": JSON, "X-Client-Token": job["token"]}

    def thread(number: int) -> None:
        rec = recorders[number]
        _wait_until(job["start"])
        while True:
            try:
                item = items.get_nowait()
            except queue.Empty:
                return
            body = _json(item)
            reply = rec.send("POST", job["path"], headers=headers, body=body, expect=201)
            if reply is not None:
                rec.tally.units += 1
                quiz_id = json.loads(reply.body).get("quiz_id")
                rec.tally.extra.append((item["student_uuid"], quiz_id))

    _run_threads(thread, job["threads"])
    return _merged(recorders)


def run_sequence(job: dict, index: int, processes: int, port: int) -> Tally:
    """Items one after another; latencies in item order (errors leave a gap: None)."""
    rec = Recorder(port, (0.0, float("inf")))
    for item in job["items"]:
        before = len(rec.tally.latencies)
        reply = rec.send(
            item["method"],
            item["path"],
            headers=item.get("headers"),
            body=item.get("body", b""),
            expect=item.get("expect", 200),
        )
        rec.tally.extra.append(rec.tally.latencies[before] if reply is not None else None)
        rec.tally.units += reply is not None
    return rec.tally


JOBS = {"timed": run_timed, "count": run_count, "sequence": run_sequence}


def _run_threads(target: Callable[[int], None], count: int) -> None:
    threads = [threading.Thread(target=target, args=(n,), daemon=True) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _merged(recorders: list[Recorder]) -> Tally:
    total = Tally()
    for rec in recorders:
        total.merge(rec.tally)
    return total


def serve(conn: Connection, index: int, processes: int, port: int) -> None:
    """A client process: run each job it is sent, reply with the tally, until None."""
    while (job := conn.recv()) is not None:
        try:
            cpu = time.process_time()
            tally = JOBS[job["kind"]](job, index, processes, port)
            tally.cpu = time.process_time() - cpu
            conn.send(tally.as_dict())
        except Exception as error:
            conn.send({"crash": f"{type(error).__name__}: {error}"})


class Client:
    """P client processes for one server; jobs go to all of them (or to the first only)."""

    def __init__(self, port: int, processes: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipes: list[Connection] = []
        self.processes = []
        for index in range(processes):
            ours, theirs = context.Pipe()
            process = context.Process(
                target=serve, args=(theirs, index, processes, port), daemon=True
            )
            process.start()
            self.pipes.append(ours)
            self.processes.append(process)

    def run(self, jobs: list[dict]) -> Tally:
        """Send jobs[i] to process i (len(jobs) ≤ processes); the merged tally."""
        for pipe, job in zip(self.pipes, jobs, strict=False):
            pipe.send(job)
        total = Tally()
        for pipe in self.pipes[: len(jobs)]:
            reply = pipe.recv()
            if "crash" in reply:
                raise RuntimeError(f"load client crashed: {reply['crash']}")
            total.merge(Tally(**reply))
        return total

    def timed(
        self, scenario: str, data: dict, *, threads: int, seconds: float, warmup: float, seed: int
    ) -> Tally:
        start = time.monotonic() + 0.2 + warmup  # every process is idle and listening
        job = {
            "kind": "timed",
            "scenario": scenario,
            "data": data,
            "threads": threads,
            "seconds": seconds,
            "warmup": warmup,
            "start": start,
            "seed": seed,
        }
        return self.run([job] * len(self.pipes))

    def count(self, path: str, token: str, groups: list[list[dict]], *, threads: int) -> Tally:
        """Each process gets a contiguous share of the groups; a group's items (a launch and
        its duplicate) stay neighbours in one process's queue, so they go out together."""
        share = -(-len(groups) // len(self.pipes))
        start = time.monotonic() + 0.2
        jobs = [
            {
                "kind": "count",
                "path": path,
                "token": token,
                "items": [item for group in groups[n * share : (n + 1) * share] for item in group],
                "threads": threads,
                "start": start,
            }
            for n in range(len(self.pipes))
        ]
        return self.run(jobs)

    def sequence(self, items: list[dict]) -> Tally:
        return self.run([{"kind": "sequence", "items": items}])

    def close(self) -> None:
        for pipe in self.pipes:
            with contextlib.suppress(OSError):
                pipe.send(None)
        for process in self.processes:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()
