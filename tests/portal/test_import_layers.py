"""The layers stay layers (issue 13): `scoring/` (pure) ← `portal/<app>` models, services and
selectors ← `portal/<app>/views` and `api/*` ← `portal/urls.py`; `integrations/` is used by
services. Nothing imports upward or sideways, and no two apps import each other.

Every import counts, those inside functions too (ast.walk): an import moved into a function
to dodge a cycle at load time is still the same dependency.
"""

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("api", "integrations", "portal", "scoring")
# portal.urls mounts the API (it is the top of the layers); settings only name dotted paths.
MAY_IMPORT_API = frozenset({"portal.urls", "portal.settings"})
# Allowed app-to-app imports of another app's views. Keep it empty: a view another app needs
# is a selector or a service in disguise.
MAY_IMPORT_VIEWS: frozenset[tuple[str, str]] = frozenset()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(source: str, module: str) -> Iterator[str]:
    """Every module `source` imports, anywhere in it: `from a.b import c` gives a.b and a.b.c
    (c may be a module), relative imports resolved against `module`."""
    package = module.split(".")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - node.level]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def our_modules() -> dict[str, set[str]]:
    """Each module of ours (migrations aside) → the modules of ours it imports."""
    graph: dict[str, set[str]] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            module = module_name(path)
            imported = imports_of(path.read_text(encoding="utf-8"), module)
            graph[module] = {name for name in imported if name.split(".")[0] in PACKAGES}
    return graph


def apps() -> set[str]:
    """The Django apps inside portal/ (a package with an apps.py)."""
    return {f"portal.{path.parent.name}" for path in (ROOT / "portal").glob("*/apps.py")}


def app_of(module: str, app_names: set[str]) -> str | None:
    return next((app for app in app_names if module == app or module.startswith(app + ".")), None)


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in edges.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def app_edges(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    app_names = apps()
    edges: dict[str, set[str]] = {}
    for module, imported in graph.items():
        source = app_of(module, app_names)
        if source is None:
            continue
        for name in imported:
            target = app_of(name, app_names)
            if target is not None and target != source:
                edges.setdefault(source, set()).add(target)
    return edges


def test_the_checker_sees_imports_inside_functions_and_relative_ones():
    source = "import os\ndef f():\n    from api.main import api\n    from . import views\n"
    found = set(imports_of(source, "portal.scorecards.services"))
    assert {"api.main", "api.main.api", "portal.scorecards.views"} <= found
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_graph_covers_the_code():
    graph = our_modules()
    assert {"api.main", "portal.urls", "portal.scorecards.services", "scoring"} <= set(graph)
    assert {"portal.exams", "portal.roleplays", "portal.partners", "portal.scorecards"} <= apps()


def test_nothing_under_portal_imports_the_api_but_the_url_map():
    upward = sorted(
        f"{module} imports {name}"
        for module, imported in our_modules().items()
        if module.startswith("portal.") and module not in MAY_IMPORT_API
        for name in imported
        if name == "api" or name.startswith("api.")
    )
    assert upward == []


def test_scoring_and_integrations_import_nothing_above_them():
    upward = sorted(
        f"{module} imports {name}"
        for module, imported in our_modules().items()
        if module.split(".")[0] in {"scoring", "integrations"}
        for name in imported
        if name.split(".")[0] == "api"
        or (module.startswith("scoring") and name.split(".")[0] != "scoring")
    )
    assert upward == []


def test_views_are_imported_only_by_their_own_app_and_the_url_map():
    app_names = apps()
    sideways = []
    for module, imported in our_modules().items():
        source = app_of(module, app_names)
        for name in imported:
            parts = name.split(".")
            if len(parts) < 3 or parts[0] != "portal" or parts[2] != "views":
                continue
            owner = f"portal.{parts[1]}"
            foreign = module.startswith("api.") or (source is not None and source != owner)
            if foreign and (module, name) not in MAY_IMPORT_VIEWS:
                sideways.append(f"{module} imports {name}")
    assert sorted(sideways) == []


def test_no_two_apps_import_each_other():
    assert cycles(app_edges(our_modules())) == []
