"""Our imports as a graph, for the tests that hold its shape (issue 13):
tests/portal/test_import_cycles.py (no knots, nothing hidden in a function),
tests/portal/test_import_layers.py (the edges point down) and
tests/integrations/test_integrations_import_graph.py (integrations/ is a tree).

Every import counts, those inside functions too: an import moved into a function to dodge a
cycle at load time is the same dependency, only hidden. Each import says the function it sits
in and whether it sits under `if TYPE_CHECKING:` (it never runs); each test picks what its rule
counts.
"""

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the module of ours it imports
    line: int
    function: str | None  # the enclosing function's qualified name, None at module level
    type_checking: bool  # under `if TYPE_CHECKING:`


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


def _nodes(
    node: ast.AST, scope: tuple[str, ...], function: str | None, type_checking: bool
) -> Iterator[tuple[ast.AST, str | None, bool]]:
    """`node` and each node under it, with the function it is in (a method is named by its
    class: AppConfig.ready() is "SomeConfig.ready") and whether it is under TYPE_CHECKING."""
    yield node, function, type_checking
    children = [(child, type_checking) for child in ast.iter_child_nodes(node)]
    if isinstance(node, ast.If) and _type_checking(node):
        children = [(child, True) for child in node.body]
        children += [(child, type_checking) for child in node.orelse]
    if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
        scope = (*scope, node.name)
        if not isinstance(node, ast.ClassDef):
            function = ".".join(scope)
    for child, under in children:
        yield from _nodes(child, scope, function, under)


def imports(root: Path, packages: tuple[str, ...]) -> list[Import]:
    """Every import of a module of ours (one of `packages`), anywhere: `from a import b` is a.b
    when a.b is a module, else a; `import a.b.c` is the nearest of a.b.c, a.b, a that is ours;
    relative imports are resolved against the importing module."""
    modules = sources(root, packages)
    found = []
    for module, path in modules.items():
        package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node, function, type_checking in _nodes(tree, (), None, False):
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
                    found.append(Import(module, name, node.lineno, function, type_checking))
    return found


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan), each sorted."""
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


def plant(root: Path, files: dict[str, str]) -> Path:
    """Writes a made-up package tree under `root`, for a test of the walk itself."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root
