"""`make bench` works end to end: a tiny run prints the table with the floor and autosave rows
and no errors. Behaviour only; the figures are the benchmark's business (docs/performance.md)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def row(output: str, name: str) -> list[str]:
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.split("|")]
        if cells[0] == name:
            return cells
    raise AssertionError(f"no {name!r} row in:\n{output}")


def test_a_quick_autosave_run_prints_the_table_without_errors():
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "HUEY_REDIS_URL"}}
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", "autosave", "--databases", "sqlite"]
        + ["--seconds", "1", "--connections", "8"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    output = completed.stdout
    assert output.startswith("== sqlite"), output
    header = row(output, "scenario")
    assert header[1:6] == ["rate", "p50 ms", "p99 ms", "errors", "÷ floor"]
    floor, autosave = row(output, "floor"), row(output, "autosave")
    assert floor[4] == "0" and autosave[4] == "0"
    assert floor[5] == "1.00" and float(autosave[5]) > 0
    assert float(autosave[1].split()[0]) > 0
