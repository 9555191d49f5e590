"""The project's import graph, read from the source with :mod:`ast`, and the checks of its layers.

Every ``import`` and ``from … import`` counts, wherever it is written: at the top, inside a
function, under ``if TYPE_CHECKING:`` — a dependency is a dependency. A name imported from a
package that is itself a module (``from center import protocol``) counts as that module.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

Graph = Mapping[str, frozenset[str]]  # module → the project's modules it imports


def modules(root: Path, packages: Iterable[str]) -> dict[str, Path]:
    """Every module of ``packages`` under ``root``, by dotted name (a package by its own name)."""
    found: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def read_graph(root: Path, packages: Iterable[str]) -> dict[str, frozenset[str]]:
    known = modules(root, packages)
    return {name: frozenset(_imports(name, path, known)) for name, path in known.items()}


def _imports(name: str, path: Path, known: Mapping[str, Path]) -> Iterator[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parents = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*parents, *([node.module] if node.module else [])])
            targets = [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            module = _owner(target, known)
            if module is not None and module != name:
                yield module


def _owner(dotted: str, known: Mapping[str, Path]) -> str | None:
    """The module ``dotted`` names, or the module that defines it (``center.calendar.JST``)."""
    while dotted and dotted not in known:
        dotted = dotted.rpartition(".")[0]
    return dotted or None


def circles(graph: Graph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(start: str) -> None:  # iterative: deep graphs must not hit the recursion limit
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for target in edges:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph.get(target, ())))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
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


@dataclass(frozen=True)
class Rules:
    """Which of the project's modules a package's modules may import, besides their own package's:
    ``allowed[package]`` holds module names or prefixes (``center`` allows ``center.client``)."""

    allowed: Mapping[str, frozenset[str]]

    def may_import(self, module: str, target: str) -> bool:
        package, other = module.split(".")[0], target.split(".")[0]
        if package == other:
            return True
        return any(
            target == allowed or target.startswith(allowed + ".") for allowed in self.allowed.get(package, ())
        )

    def breaches(self, graph: Graph) -> list[tuple[str, str]]:
        return sorted(
            (module, target)
            for module, targets in graph.items()
            for target in targets
            if module.split(".")[0] in self.allowed and not self.may_import(module, target)
        )


ROW = re.compile(r"^\|\s*`(?P<package>[a-z_]+)`\s*\|(?P<allowed>[^|]*)\|")
NAME = re.compile(r"`([a-z_][a-z_.]*)`")


def rules_from_table(markdown: str, heading: str) -> Rules:
    """The rules as ``docs/architecture.md`` states them: the table under ``heading``, one row per
    package, its second column the backquoted modules and packages it may import ("—": none)."""
    section = markdown.split(heading, 1)[1].split("\n## ", 1)[0]
    allowed = {}
    for line in section.splitlines():
        row = ROW.match(line)
        if row:
            allowed[row["package"]] = frozenset(NAME.findall(row["allowed"]))
    if not allowed:
        raise ValueError(f"no table of allowed imports under {heading!r}")
    return Rules(allowed)


def reachable(graph: Graph, start: Iterable[str]) -> set[str]:
    """Every module imported, directly or not, by the modules ``start``."""
    seen: set[str] = set()
    todo = list(start)
    while todo:
        module = todo.pop()
        for target in graph.get(module, ()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen
