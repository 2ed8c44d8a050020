"""No knot anywhere in our imports (issue 13): the modules of api/, integrations/, portal/,
scoring/ and bench/ import each other as a graph without cycles, and none of them hides an
import of ours inside a function.

Every import counts, those inside functions too: an import moved into a function to dodge a
cycle at load time is the same dependency, only hidden. Imports under `if TYPE_CHECKING:` do
not count (they never run). Where a module needs another only after Django's apps are ready,
it says so in the one place Django gives for it, `AppConfig.ready()`; the few exceptions are
in IN_A_FUNCTION below, each with its reason. bench/ is checked for cycles only: it is a
harness that sets Django up itself, in each process it starts, before it may import a model.
tests/portal/test_import_layers.py checks which way the edges point; this checks that they
never come back.
"""

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("api", "integrations", "portal", "scoring", "bench")
NO_HIDDEN_IMPORTS = ("api", "integrations", "portal", "scoring")
# (module, function) → why the import must wait for a call.
IN_A_FUNCTION = {
    ("portal.audit", "record"): "an app's package is imported before its models can be",
}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the module of ours it imports
    line: int
    function: str | None  # the enclosing function's qualified name, None at module level


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def sources(root: Path, packages: tuple[str, ...]) -> dict[str, Path]:
    """Every module of `packages` under `root` (migrations aside: they import nothing of ours
    that matters and are frozen history)."""
    return {
        module_name(path, root): path
        for package in packages
        if (root / package).is_dir()
        for path in sorted((root / package).rglob("*.py"))
        if "migrations" not in path.parts
    }


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _statements(node: ast.AST, function: str | None) -> Iterator[tuple[ast.AST, str | None]]:
    """Each node under `node` with the function it is in; `if TYPE_CHECKING:` bodies left out."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _type_checking(child):
            for other in child.orelse:
                yield other, function
                yield from _statements(other, function)
            continue
        inner = function
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            inner = child.name if function is None else f"{function}.{child.name}"
        elif isinstance(child, ast.ClassDef) and function is None:
            # A method is named by its class: AppConfig.ready() is "SomeConfig.ready".
            yield child, function
            for item in child.body:
                name = None
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    name = f"{child.name}.{item.name}"
                yield item, None
                yield from _statements(item, name)
            continue
        yield child, function
        yield from _statements(child, inner)


def imports(root: Path, packages: tuple[str, ...]) -> list[Import]:
    """Every import of a module of ours, anywhere: `from a import b` is a.b when a.b is a
    module, else a; `import a.b.c` is the nearest of a.b.c, a.b, a that is ours; relative
    imports are resolved against the importing module."""
    modules = sources(root, packages)
    found = []
    for module, path in modules.items():
        package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        for node, function in _statements(ast.parse(path.read_text(encoding="utf-8")), None):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package[: len(package) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                names = [f"{base}.{alias.name}" for alias in node.names]
                names = [name if name in modules else base for name in names]
            else:
                continue
            for name in names:
                while name not in modules and "." in name:
                    name = name.rsplit(".", 1)[0]
                if name in modules and name != module:
                    found.append(Import(module, name, node.lineno, function))
    return found


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(edges.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


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
    """Imports of ours inside a function, but for AppConfig.ready() and IN_A_FUNCTION."""
    return sorted(
        f"{e.module}:{e.line} {e.function} imports {e.target}"
        for e in found
        if e.function is not None
        and e.module.split(".")[0] in packages
        and not (e.module.endswith(".apps") and e.function.endswith("Config.ready"))
        and (e.module, e.function) not in IN_A_FUNCTION
    )


def plant(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


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
    found = imports(root, ("shop",))
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
    found = imports(root, ("shop",))
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
    found = imports(ROOT, PACKAGES)
    pairs = {(e.module, e.target) for e in found}
    assert ("api.main", "api.exams") in pairs
    assert ("portal.scorecards.services", "portal.scorecards.results") in pairs
    assert ("integrations.apps", "integrations.tasks") in pairs  # inside IntegrationsConfig.ready


def test_no_module_of_ours_imports_itself_back():
    assert knots(imports(ROOT, PACKAGES)) == []


def test_no_import_of_ours_hides_inside_a_function():
    assert hidden(imports(ROOT, PACKAGES), NO_HIDDEN_IMPORTS) == []
