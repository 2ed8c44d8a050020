"""integrations/ is a tree of imports, not a knot (issue 13): the outbox (deliveries) sends
through the transports' registry and enqueues its task without importing the tasks module; no
transport imports the outbox; every import counts, those inside functions too (ast.walk), as
in tests/portal/test_import_layers.py.
"""

import ast
from pathlib import Path

from integrations.models import Delivery
from integrations.transports import TRANSPORTS, Transport

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "integrations"
# Imports Django wants inside a function: AppConfig.ready() runs once the app registry is.
MAY_IMPORT_IN_A_FUNCTION = frozenset({("integrations.apps", "ready")})


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, ast.Module]:
    return {
        module_name(path): ast.parse(path.read_text(encoding="utf-8"))
        for path in PACKAGE.rglob("*.py")
        if "migrations" not in path.parts
    }


def imported(tree: ast.AST, module: str, known: set[str]) -> set[str]:
    """The modules of integrations/ that `tree` imports anywhere (`from a import b` counts as
    a.b when a.b is a module, else as a), relative imports resolved against `module`."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")[: len(module.split(".")) - node.level]
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{alias.name}" for alias in node.names]
            names = [name if name in known else base for name in names]
        else:
            continue
        found |= {name for name in names if name in known}
    return found - {module}


def graph() -> dict[str, set[str]]:
    trees = modules()
    known = set(trees)
    return {module: imported(tree, module, known) for module, tree in trees.items()}


def reaches(edges: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = list(edges.get(start, ()))
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(edges.get(module, ()))
    return seen


def test_the_graph_sees_the_package():
    edges = graph()
    assert {"integrations.deliveries", "integrations.tasks", "integrations.transports"} <= set(
        edges
    )
    assert "integrations.transports.webhook" in edges["integrations.transports"]
    assert "integrations.deliveries" in edges["integrations.tasks"]


def test_no_module_of_integrations_reaches_itself():
    edges = graph()
    knotted = sorted(module for module in edges if module in reaches(edges, module))
    assert knotted == []


def test_the_outbox_does_not_import_its_tasks_and_no_transport_imports_the_outbox():
    edges = graph()
    assert "integrations.tasks" not in reaches(edges, "integrations.deliveries")
    for module in edges:
        if module.startswith("integrations.transports"):
            assert "integrations.deliveries" not in reaches(edges, module), module


def test_no_import_of_ours_hides_inside_a_function():
    hidden = []
    for module, tree in modules().items():
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if (module, function.name) in MAY_IMPORT_IN_A_FUNCTION:
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                    ("integrations", "portal", "api")
                ):
                    hidden.append(f"{module}.{function.name} imports {node.module}")
                elif isinstance(node, ast.Import):
                    hidden += [
                        f"{module}.{function.name} imports {alias.name}"
                        for alias in node.names
                        if alias.name.split(".")[0] in {"integrations", "portal", "api"}
                    ]
    assert hidden == []


def test_every_kind_of_delivery_has_its_transport():
    assert set(TRANSPORTS) == set(Delivery.Transport.values)
    assert all(isinstance(transport, Transport) for transport in TRANSPORTS.values())
