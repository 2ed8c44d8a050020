"""No knot anywhere in our imports (issue 13): the modules of api/, integrations/, portal/,
scoring/ and bench/ import each other as a graph without cycles, and none of them hides an
import of ours inside a function.

Every import counts, those inside functions too: an import moved into a function to dodge a
cycle at load time is the same dependency, only hidden. Imports under `if TYPE_CHECKING:` do
not count (they never run). Where a module needs another only after Django's apps are ready,
it says so in the one place Django gives for it, `AppConfig.ready()`. bench/ is checked for
cycles only: it is a harness that sets Django up itself, in each process it starts, before it
may import a model.
tests/portal/test_import_layers.py checks which way the edges point; this checks that they
never come back.
"""

from pathlib import Path

from tests.importgraph import Import, cycles, imports, plant

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("api", "integrations", "portal", "scoring", "bench")
NO_HIDDEN_IMPORTS = ("api", "integrations", "portal", "scoring")


def running(root: Path, packages: tuple[str, ...]) -> list[Import]:
    """The imports of ours that run: not those under `if TYPE_CHECKING:`."""
    return [edge for edge in imports(root, packages) if not edge.type_checking]


def knots(found: list[Import]) -> list[str]:
    """Each cycle, as the imports that make it ("a:12 → b (in f)")."""
    edges: dict[str, set[str]] = {}
    for edge in found:
        edges.setdefault(edge.module, set()).add(edge.target)
    described = []
    for component in cycles(edges):
        members = set(component)
        described.append(
            "; ".join(
                f"{e.module}:{e.line} → {e.target}" + (f" (in {e.function})" if e.function else "")
                for e in found
                if e.module in members and e.target in members
            )
        )
    return described


def hidden(found: list[Import], packages: tuple[str, ...]) -> list[str]:
    """Imports of ours inside a function, but for AppConfig.ready()."""
    return sorted(
        f"{e.module}:{e.line} {e.function} imports {e.target}"
        for e in found
        if e.function is not None
        and e.module.split(".")[0] in packages
        and not (e.module.endswith(".apps") and e.function.endswith("Config.ready"))
    )


def test_a_planted_cycle_is_found_even_through_a_function(tmp_path):
    root = plant(
        tmp_path,
        {
            "shop/__init__.py": "",
            "shop/orders.py": "from shop import payments\n",
            "shop/payments.py": "def pay():\n    from .receipts import issue\n",
            "shop/receipts.py": "import shop.orders\n",
            "shop/stock.py": "from shop.orders import Order\n",  # into the knot, not in it
        },
    )
    found = running(root, ("shop",))
    assert knots(found) == [
        "shop.orders:1 → shop.payments; shop.payments:2 → shop.receipts (in pay); "
        "shop.receipts:1 → shop.orders"
    ]
    assert hidden(found, ("shop",)) == ["shop.payments:2 pay imports shop.receipts"]


def test_type_checking_imports_and_app_ready_are_not_counted(tmp_path):
    root = plant(
        tmp_path,
        {
            "shop/__init__.py": "",
            "shop/apps.py": (
                "from django.apps import AppConfig\n\n"
                "class ShopConfig(AppConfig):\n"
                "    def ready(self):\n"
                "        from shop import signals\n"
            ),
            "shop/signals.py": "from shop.models import Order\n",
            "shop/models.py": (
                "from typing import TYPE_CHECKING\n\n"
                "if TYPE_CHECKING:\n"
                "    from shop.signals import handler\n"
                "else:\n"
                "    import shop.apps\n"
            ),
        },
    )
    found = running(root, ("shop",))
    assert {(e.module, e.target) for e in found} == {
        ("shop.apps", "shop.signals"),
        ("shop.signals", "shop.models"),
        ("shop.models", "shop.apps"),  # the else branch runs
    }
    assert knots(found) == [
        "shop.apps:5 → shop.signals (in ShopConfig.ready); "
        "shop.models:6 → shop.apps; shop.signals:1 → shop.models"
    ]
    assert hidden(found, ("shop",)) == []


def test_the_walk_covers_the_code():
    found = running(ROOT, PACKAGES)
    pairs = {(e.module, e.target) for e in found}
    assert ("api.main", "api.exams") in pairs
    assert ("portal.scorecards.services", "portal.scorecards.results") in pairs
    assert ("integrations.apps", "integrations.tasks") in pairs  # inside IntegrationsConfig.ready


def test_no_module_of_ours_imports_itself_back():
    assert knots(running(ROOT, PACKAGES)) == []


def test_no_import_of_ours_hides_inside_a_function():
    assert hidden(running(ROOT, PACKAGES), NO_HIDDEN_IMPORTS) == []
