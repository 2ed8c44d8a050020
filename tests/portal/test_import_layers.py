"""The layers stay layers (issue 13): `scoring/` (pure) ← `portal/<app>` models, services and
selectors ← `portal/<app>/views` and `api/*` ← `portal/urls.py`; `integrations/` is used by
services. Nothing imports upward or sideways, and no two apps import each other.

Every import counts, those inside functions and under `if TYPE_CHECKING:` too: an import
moved into a function to dodge a cycle at load time is still the same dependency, and a type
from above is still a look upward (the walk is tests/importgraph.py).
"""

from pathlib import Path

from tests.importgraph import cycles, imports, plant, sources

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("api", "integrations", "portal", "scoring")
# portal.urls mounts the API (it is the top of the layers); settings only name dotted paths.
MAY_IMPORT_API = frozenset({"portal.urls", "portal.settings"})
# Allowed app-to-app imports of another app's views. Keep it empty: a view another app needs
# is a selector or a service in disguise.
MAY_IMPORT_VIEWS: frozenset[tuple[str, str]] = frozenset()


def our_modules() -> dict[str, set[str]]:
    """Each module of ours (migrations aside) → the modules of ours it imports."""
    graph: dict[str, set[str]] = {module: set() for module in sources(ROOT, PACKAGES)}
    for edge in imports(ROOT, PACKAGES):
        graph[edge.module].add(edge.target)
    return graph


def apps() -> set[str]:
    """The Django apps inside portal/ (a package with an apps.py)."""
    return {f"portal.{path.parent.name}" for path in (ROOT / "portal").glob("*/apps.py")}


def app_of(module: str, app_names: set[str]) -> str | None:
    return next((app for app in app_names if module == app or module.startswith(app + ".")), None)


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


def test_the_checker_sees_imports_inside_functions_and_relative_ones(tmp_path):
    root = plant(
        tmp_path,
        {
            "api/__init__.py": "",
            "api/main.py": "",
            "portal/__init__.py": "",
            "portal/scorecards/__init__.py": "",
            "portal/scorecards/views.py": "",
            "portal/scorecards/services.py": (
                "import os\ndef f():\n    from api.main import api\n    from . import views\n"
            ),
        },
    )
    found = {(e.module, e.target) for e in imports(root, ("api", "portal"))}
    assert {
        ("portal.scorecards.services", "api.main"),
        ("portal.scorecards.services", "portal.scorecards.views"),
    } <= found
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
