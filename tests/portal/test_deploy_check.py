"""The documented production environment (deploy/production.env) passes `check --deploy`."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def production_env() -> dict[str, str]:
    env = {}
    for line in (ROOT / "deploy" / "production.env").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            env[name.strip()] = value.strip()
    return env


def test_check_deploy_reports_nothing_under_the_production_environment(tmp_path):
    env = production_env() | {
        "PATH": "/usr/bin:/bin",
        "PORTAL_VAR_DIR": str(tmp_path),
        # Long and random, as the file's placeholder asks (check --deploy judges the real one).
        "SECRET_KEY": "k" + "x7Qp2mZr9Lw4Nv8Tb3Hs6Jd1Fg5Kc0Ya" * 2,
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "DEBUG"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "System check identified no issues (0 silenced).", done.stdout
    assert done.stderr == ""


def test_the_production_environment_turns_the_sandbox_and_debug_off():
    env = production_env()
    assert env["DEBUG"] == "false"
    assert env["SANDBOX_ENABLED"] == "false"
    assert env["OUTBOUND_ALLOW_LOOPBACK"] == "false"
