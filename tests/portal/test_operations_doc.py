"""docs/operations.md documents every environment variable the portal and its roles read."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READERS = [
    "portal/settings.py",
    "portal/gunicorn.py",
    "scripts/serve",
    "scripts/run",
    *(str(p.relative_to(ROOT)) for p in (ROOT / "portal").rglob("*.py")),
    *(str(p.relative_to(ROOT)) for p in (ROOT / "integrations").rglob("*.py")),
]
PYTHON_READ = re.compile(
    r"""(?:os\.environ(?:\.get)?[\[(]|env_bool\(|env_list\()\s*["']([A-Z][A-Z0-9_]+)["']"""
)
SHELL_READ = re.compile(r"\$\{([A-Z][A-Z0-9_]+)")
# Set by the scripts for the processes they start, or by the system: not settings.
NOT_SETTINGS = {"PY", "PATH", "HOME"}


def read_variables() -> set[str]:
    names: set[str] = set()
    for relative in READERS:
        text = (ROOT / relative).read_text(encoding="utf-8")
        names |= set(PYTHON_READ.findall(text))
        if not relative.endswith(".py"):
            names |= set(SHELL_READ.findall(text))
    return names - NOT_SETTINGS


def test_every_environment_variable_is_documented():
    documented = set(
        re.findall(r"`([A-Z][A-Z0-9_]+)`", (ROOT / "docs" / "operations.md").read_text())
    )
    variables = read_variables()
    assert {"SECRET_KEY", "WEB_CONCURRENCY", "HUEY_WORKERS", "DB_POOL_MAX_SIZE"} <= variables
    assert sorted(variables - documented) == []
