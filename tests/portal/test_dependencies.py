"""pyproject.toml declares what the portal needs: every third-party package its code imports,
in a version range that has the features it uses and admits the installed version."""

import ast
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
# The code that ships (tests, bench and scripts run with the dev extras).
PACKAGES = ("api", "integrations", "portal", "scoring")
# Imported directly, but installed and pinned exactly by a declared package.
PART_OF = {"pydantic-core": "pydantic"}


def declared() -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = map(Requirement, project["dependencies"])
    return {canonicalize_name(r.name): r for r in requirements}


def imported_modules() -> set[str]:
    names: set[str] = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - set(PACKAGES)


def test_every_imported_package_is_declared():
    distributions = metadata.packages_distributions()
    needed = {
        canonicalize_name(distribution)
        for module in imported_modules()
        for distribution in distributions.get(module, [module])
    }
    needed = {PART_OF.get(name, name) for name in needed}
    assert sorted(needed - set(declared())) == []


def test_declared_ranges_admit_the_installed_versions_and_django_6_1_at_least():
    for name, requirement in declared().items():
        installed = metadata.version(name)
        assert requirement.specifier.contains(installed, prereleases=True), (name, installed)
    django = declared()["django"].specifier
    # integrations/email.py and the settings use Django 6.1's MAILERS.
    assert not django.contains("6.0.9") and django.contains("6.1.0")


def locked(name: str) -> dict[str, tuple[str, list[str]]]:
    """requirements/<name>.lock as {package: (version, [hashes])}."""
    pins: dict[str, tuple[str, list[str]]] = {}
    current = ""
    for line in (ROOT / "requirements" / f"{name}.lock").read_text().splitlines():
        text = line.strip()
        if "==" in text and not text.startswith(("#", "--")):
            package, _, version = text.partition("==")
            current = canonicalize_name(package)
            pins[current] = (version.split()[0].rstrip("\\").strip(), [])
        elif text.startswith("--hash=sha256:") and current:
            pins[current][1].append(text.removeprefix("--hash=sha256:").rstrip("\\ "))
    return pins


def test_the_locks_pin_every_declared_package_with_hashes_in_its_range():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    dev = [Requirement(r) for r in project["optional-dependencies"]["dev"]]
    for lock, requirements in (
        ("base", declared().values()),
        ("dev", [*declared().values(), *dev]),
    ):
        pins = locked(lock)
        assert pins, lock
        for requirement in requirements:
            version, _ = pins[canonicalize_name(requirement.name)]
            assert requirement.specifier.contains(version, prereleases=True), (lock, requirement)
        assert all(hashes for _, hashes in pins.values()), lock
    # The runtime lock is the dev lock without the dev tools: the same versions.
    base, dev_pins = locked("base"), locked("dev")
    assert {name: dev_pins[name][0] for name in base} == {n: v for n, (v, _) in base.items()}


def test_the_installed_versions_are_the_locked_ones():
    mismatched = {
        name: (version, metadata.version(name))
        for name, (version, _) in locked("dev").items()
        if metadata.version(name) != version
    }
    assert mismatched == {}
