"""integrations/ is a tree of imports, not a knot (issue 13): the outbox (deliveries) sends
through the transports' registry and enqueues its task without importing the tasks module; no
transport imports the outbox; every import counts, those inside functions and under
`if TYPE_CHECKING:` too (the walk is tests/importgraph.py).
"""

from pathlib import Path

from integrations.models import Delivery
from integrations.transports import TRANSPORTS, Transport
from tests.importgraph import cycles, imports, sources

ROOT = Path(__file__).resolve().parents[2]
# Imports Django wants inside a function: AppConfig.ready() runs once the app registry is.
MAY_IMPORT_IN_A_FUNCTION = frozenset({("integrations.apps", "IntegrationsConfig.ready")})


def graph() -> dict[str, set[str]]:
    """Each module of integrations/ → the modules of integrations/ it imports."""
    edges: dict[str, set[str]] = {module: set() for module in sources(ROOT, ("integrations",))}
    for edge in imports(ROOT, ("integrations",)):
        edges[edge.module].add(edge.target)
    return edges


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
    assert cycles(graph()) == []


def test_the_outbox_does_not_import_its_tasks_and_no_transport_imports_the_outbox():
    edges = graph()
    assert "integrations.tasks" not in reaches(edges, "integrations.deliveries")
    for module in edges:
        if module.startswith("integrations.transports"):
            assert "integrations.deliveries" not in reaches(edges, module), module


def test_no_import_of_ours_hides_inside_a_function():
    hidden = sorted(
        f"{e.module}:{e.line} {e.function} imports {e.target}"
        for e in imports(ROOT, ("integrations", "portal", "api"))
        if e.module.startswith("integrations")
        and e.function is not None
        and (e.module, e.function) not in MAY_IMPORT_IN_A_FUNCTION
    )
    assert hidden == []


def test_every_kind_of_delivery_has_its_transport():
    assert set(TRANSPORTS) == set(Delivery.Transport.values)
    assert all(isinstance(transport, Transport) for transport in TRANSPORTS.values())
