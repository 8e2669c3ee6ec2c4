"""The import graph of app/ and matching/ has no circle: no module imports, however indirectly, itself.

Every import counts: at module level, inside functions (the CLI's lazy imports) and under
TYPE_CHECKING. Importing `a.b.c` also runs the __init__ of `a` and `a.b`, so those count too. A
package's __init__ importing its own modules (to re-export them) does not. import-linter
(`make lint`) checks the rest of the layering: the engine imports nothing of the service.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("app", "matching")


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _ancestors(name: str) -> Iterator[str]:
    parts = name.split(".")
    for end in range(1, len(parts)):
        yield ".".join(parts[:end])


def _imported(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of ours that `name` names in an import statement, wherever the statement is."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    named: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            named.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from a import b` names the module a.b where there is one, else a name in a.
            named.update(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names)
    found: set[str] = set()
    for target in named:
        while target and target not in modules:  # `import a.b.C`-style names resolve to their module
            target = target.rpartition(".")[0]
        if target:
            found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        own_ancestors = set(_ancestors(name))
        edges: set[str] = set()
        for target in _imported(name, path, modules):
            edges.add(target)
            # The packages the import runs first; the importer's own are already running.
            edges.update(a for a in _ancestors(target) if a in modules and a not in own_ancestors)
        if path.name == "__init__.py":
            edges = {target for target in edges if not target.startswith(f"{name}.")}  # re-exports
        edges.discard(name)
        graph[name] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
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
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
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

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def test_no_module_imports_itself_through_others() -> None:
    assert cycles(import_graph()) == []


def test_the_graph_holds_lazy_and_package_imports() -> None:
    graph = import_graph()
    assert "app.review.pages" in graph["app.web.install"]  # inside install_web
    assert "app.web" in graph["app.review.pages"]  # importing app.web.rendering runs app/web/__init__
    assert "app.models.catalogue" not in graph["app.models"]  # a package re-exporting its own modules


def test_cycles_finds_a_circle_and_only_that() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [["a", "b", "c"]]
