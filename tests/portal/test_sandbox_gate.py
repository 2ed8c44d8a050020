"""In production the sandbox is off: its pages are 404s, seed_demo refuses, loopback is refused."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def setting_under(env: dict[str, str], name: str) -> str:
    """A setting as the portal reads it from this environment (a fresh process)."""
    code = (
        f"import django; django.setup(); from django.conf import settings; print(settings.{name})"
    )
    base = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "portal.settings"}
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=base | env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_sandbox_and_loopback_follow_debug_by_default(tmp_path):
    production = {"PORTAL_VAR_DIR": str(tmp_path)}
    assert setting_under(production, "SANDBOX_ENABLED") == "False"
    assert setting_under(production, "OUTBOUND_ALLOW_LOOPBACK") == "False"
    demo = production | {"DEBUG": "true"}
    assert setting_under(demo, "SANDBOX_ENABLED") == "True"
    assert setting_under(demo, "OUTBOUND_ALLOW_LOOPBACK") == "True"
    # Each can still be set on its own.
    assert setting_under(production | {"OUTBOUND_ALLOW_LOOPBACK": "true"}, "SANDBOX_ENABLED") == (
        "False"
    )


def test_with_the_sandbox_off_its_pages_are_not_found(client, settings):
    assert client.get("/sandbox/").status_code == 200
    settings.SANDBOX_ENABLED = False
    for path in ("/sandbox/", "/sandbox/q3/", "/sandbox/q3/api/receive-cluster-metadata"):
        assert client.get(path).status_code == 404, path
    assert client.post("/sandbox/q3/api/receive-assessment-results").status_code == 404
    assert client.get("/")["Location"] == "/staff/"


def test_seed_demo_refuses_with_the_sandbox_off(settings):
    settings.SANDBOX_ENABLED = False
    with pytest.raises(CommandError, match="SANDBOX_ENABLED=true"):
        call_command("seed_demo")
