"""`python -m bench` (`make bench`): measure the exam-day hot paths against the in-run floor.

One run per database, each in its own process (bench.run) with its own server: SQLite always,
then PostgreSQL + Redis when both answer. Prints one table per database (docs/performance.md
says what each row means).

Exit status: 0 when every scenario ran without an error, even if a speed goal was missed (the
figures are figures, not assertions); 1 when a request failed, a delivery never arrived or the
launch storm left a duplicate (a broken rule is not a figure); 2 when a run could not be made.
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import report
from bench.run import SCENARIOS

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_NAME = "portal_bench"
PG_URL = f"postgres://postgres@127.0.0.1:5432/{PG_NAME}"
REDIS_URL = "redis://127.0.0.1:6379/14"
DATABASES = ("sqlite", "postgres")

# name: (full run, --quick)
PLAN = {
    "rounds": (5, 1),
    "seconds": (3.0, 1.5),
    "storm": (1000, 100),  # launches per round
    "submits": (10, 3),  # submits per exam size per round
    "gets": (20, 5),  # exam page and launch GETs per size per round
    "deliveries": (500, 30),
    "singles": (20, 5),  # single deliveries for commit → first attempt
    "delivery_timeout": (240, 60),
    "launches_per_connection": (2, 1),  # autosave: each connection saves into its own launches
    "ramp": (0.5, 0.3),  # each timed scenario runs this long before its window opens
    "warmup": (1.0, 0.5),  # seconds of each scenario before the first round
}


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run (under a minute)")
    parser.add_argument(
        "--only",
        default=",".join(SCENARIOS),
        help=f"scenarios, comma-separated, from {','.join(SCENARIOS)} (the floor always runs)",
    )
    parser.add_argument(
        "--databases", default=",".join(DATABASES), help="sqlite, postgres or both (default)"
    )
    rounds, seconds = PLAN["rounds"], PLAN["seconds"]
    parser.add_argument(
        "--rounds", type=int, help=f"interleaved rounds (default {rounds[0]}; quick {rounds[1]})"
    )
    parser.add_argument(
        "--seconds",
        type=float,
        help=f"seconds per timed scenario (default {seconds[0]:g}; quick {seconds[1]:g})",
    )
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections")
    parser.add_argument("--processes", type=int, default=2, help="load client processes")
    parser.add_argument("--keep", action="store_true", help="keep the run's logs and files")
    args = parser.parse_args(argv)
    args.only = [name.strip() for name in args.only.split(",") if name.strip()]
    args.databases = [name.strip() for name in args.databases.split(",") if name.strip()]
    unknown = [n for n in args.only if n not in SCENARIOS]
    unknown += [n for n in args.databases if n not in DATABASES]
    if unknown:
        parser.error(f"unknown scenario or database: {', '.join(unknown)}")
    if args.connections % args.processes:
        parser.error("--connections must be a multiple of --processes")
    return args


def answers(host: str, port: int, probe: bytes = b"", expect: bytes = b"") -> bool:
    try:
        with socket.create_connection((host, port), timeout=2) as sock:
            if probe:
                sock.sendall(probe)
                return sock.recv(64).startswith(expect)
            return True
    except OSError:
        return False


def postgres_and_redis() -> str | None:
    """Why the PostgreSQL run can't be made, or None when both answer."""
    if not answers("127.0.0.1", 5432):
        return "PostgreSQL does not answer on 127.0.0.1:5432"
    if not answers("127.0.0.1", 6379, b"PING\r\n", b"+PONG"):
        return "Redis does not answer on 127.0.0.1:6379"
    return None


def config_for(database: str, args: argparse.Namespace, workdir: Path) -> dict:
    level = 1 if args.quick else 0
    config = {name: values[level] for name, values in PLAN.items()}
    if args.rounds:
        config["rounds"] = args.rounds
    if args.seconds:
        config["seconds"] = args.seconds
    env = {
        "PORTAL_VAR_DIR": str(workdir / "var"),
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # Each scorecard visitor comes from its own address, as on exam day (see bench.load).
        "TRUSTED_PROXY_COUNT": "1",
        "HUEY_NAME": "bench",
        "HUEY_IMMEDIATE": "false",
        "CACHE_KEY_PREFIX": "bench",
        "HUBSPOT_ACCESS_TOKEN": "",
        "SQLITE_PATH": "",
        # The webhook receiver listens on 127.0.0.1.
        "OUTBOUND_ALLOW_LOOPBACK": "true",
    }
    if database == "postgres":
        env |= {"DATABASE_URL": PG_URL, "HUEY_REDIS_URL": REDIS_URL}
    return config | {
        "database": database,
        "only": args.only,
        "connections": args.connections,
        "processes": args.processes,
        "workdir": str(workdir),
        "result": str(workdir / "result.json"),
        "env": env,
        "admin_dsn": PG_ADMIN_DSN,
        "pg_name": PG_NAME,
        "redis_url": REDIS_URL,
    }


def collect_static(static: Path) -> subprocess.Popen:
    """`collectstatic`, as a deploy does (the pages name the hashed files of its manifest), once
    for all runs and in the background: the first run migrates and seeds meanwhile, and waits
    for it before its server starts (bench.run.wait_for_static)."""
    (static / "var" / "staticfiles").mkdir(parents=True)
    env = os.environ | {
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "PORTAL_VAR_DIR": str(static / "var"),
        "DEBUG": "false",
    }
    env.pop("DATABASE_URL", None)
    command = (
        f"{sys.executable} manage.py collectstatic --noinput -v0 > {static}/collectstatic.log "
        f"2>&1; echo $? > {static}/status"
    )
    return subprocess.Popen(["sh", "-c", command], cwd=ROOT, env=env)


def run_database(database: str, args: argparse.Namespace, static: Path | None) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix=f"portal-bench-{database}-"))
    config = config_for(database, args, workdir) | {"static": str(static) if static else ""}
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    completed = subprocess.run(
        [sys.executable, "-m", "bench.run", json.dumps(config)], cwd=ROOT, env=env, check=False
    )
    result_file = Path(config["result"])
    if result_file.exists():
        result = json.loads(result_file.read_text())
    else:
        result = {"database": database, "crash": f"the run exited with {completed.returncode}"}
    keep = args.keep or "crash" in result or result.get("failed")
    if keep:
        result.setdefault("notes", []).append(f"logs and files kept in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return result


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    status = 0
    static = Path(tempfile.mkdtemp(prefix="portal-bench-static-"))
    # Only the candidate's pages (the submit scenario) render templates that name static files.
    collecting = collect_static(static) if "submit" in args.only else None
    try:
        for database in args.databases:
            status = max(status, run_and_print(database, args, static if collecting else None))
    finally:
        if collecting is not None:
            collecting.wait()
        shutil.rmtree(static, ignore_errors=True)
    return status


def run_and_print(database: str, args: argparse.Namespace, static: Path | None) -> int:
    """Run one database and print its table; the exit status it calls for."""
    if database == "postgres" and (reason := postgres_and_redis()):
        print(f"== postgres — skipped: {reason}\n", flush=True)
        return 0
    result = run_database(database, args, static)
    if "crash" in result:
        print(f"== {database} — the run failed:\n{result['crash']}", flush=True)
        for note in result.get("notes", []):
            print(f"note: {note}")
        return 2
    print(report.table(result) + "\n", flush=True)
    return 1 if result["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
