"""The layers of ``docs/architecture.md`` hold in the code: no import circle, every import allowed
by the documented table, the product apart from its development tools and tests, the kiosk on the
center's terminal side only. The checks are shown to fail on graphs that break them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from support.import_graph import Rules, circles, reachable, read_graph, rules_from_table

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("documents", "firmware", "hardware", "printing", "center", "kiosk", "koufu")
DEVELOPMENT = "devtools"
HEADING = "## Layers and allowed imports"


@pytest.fixture(scope="module")
def graph() -> dict[str, frozenset[str]]:
    return read_graph(ROOT, (*PRODUCT, DEVELOPMENT))


@pytest.fixture(scope="module")
def rules() -> Rules:
    return rules_from_table((ROOT / "docs" / "architecture.md").read_text(encoding="utf-8"), HEADING)


def test_no_module_takes_part_in_an_import_circle(graph: dict[str, frozenset[str]]) -> None:
    assert len(graph) > 250  # the whole project was read
    assert circles(graph) == []


def test_every_import_is_one_the_documented_table_allows(
    graph: dict[str, frozenset[str]], rules: Rules
) -> None:
    assert set(rules.allowed) == {*PRODUCT, DEVELOPMENT}  # a row for every package
    assert rules.breaches(graph) == []


def test_the_table_keeps_the_layers_the_design_asks_for(rules: Rules) -> None:
    """Loosening the table is not a way to pass the test above."""
    assert rules.allowed["documents"] == frozenset()
    assert rules.allowed["firmware"] == frozenset()
    assert not {"kiosk", "center", "koufu", "printing"} & rules.allowed["hardware"]
    assert "center" not in rules.allowed["kiosk"]  # only named modules of the center
    for package in PRODUCT:
        assert not any(
            name.split(".")[0] in (DEVELOPMENT, "tests", "bench") for name in rules.allowed[package]
        ), package


def test_the_product_never_imports_the_development_tools_the_tests_or_the_benchmarks() -> None:
    # what the tests' directory puts on the path: its modules, and the support package
    test_modules = {path.stem for path in (ROOT / "tests").glob("*.py")} | {"support", "tests", "bench"}
    offending = []
    for package in PRODUCT:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = (
                    [alias.name for alias in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                    if isinstance(node, ast.ImportFrom) and not node.level
                    else []
                )
                offending += [
                    f"{path.relative_to(ROOT)}: {name}"
                    for name in names
                    if name.split(".")[0] in test_modules | {DEVELOPMENT}
                ]
    assert offending == []


def test_the_kiosk_reaches_no_module_of_the_center_beyond_its_terminal_side(
    graph: dict[str, frozenset[str]], rules: Rules
) -> None:
    terminal_side = {name for name in rules.allowed["kiosk"] if name.startswith("center.")}
    assert "center.client" in terminal_side
    kiosk = [module for module in graph if module.split(".")[0] == "kiosk"]
    reached = {module for module in reachable(graph, kiosk) if module.split(".")[0] == "center"}
    assert reached and reached <= terminal_side, sorted(reached - terminal_side)


# -- the checks themselves fail when they should ---------------------------------------------------


def test_a_circle_is_found_however_long() -> None:
    graph = {
        "a.x": frozenset({"a.y"}),
        "a.y": frozenset({"b.z"}),
        "b.z": frozenset({"a.x"}),
        "c.w": frozenset({"a.x"}),
    }
    assert circles(graph) == [["a.x", "a.y", "b.z"]]
    assert circles({"a.x": frozenset({"a.y"}), "a.y": frozenset()}) == []


def test_an_import_the_table_does_not_allow_is_a_breach() -> None:
    rules = rules_from_table("## Layers\n| `low` | — |\n| `high` | `low`, `mid.api` |\n", "## Layers")
    graph = {
        "high.a": frozenset({"low.b", "mid.api.c", "high.d"}),
        "high.d": frozenset({"mid.server"}),
        "low.b": frozenset({"high.a"}),
        "mid.api.c": frozenset(),
    }
    assert rules.breaches(graph) == [("high.d", "mid.server"), ("low.b", "high.a")]


def test_the_graph_counts_every_kind_of_import(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "base.py").write_text("VALUE = 1\n")
    (package / "sub" / "__init__.py").write_text("from .. import base\n")
    (package / "sub" / "late.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.base import VALUE\n"
        "def f():\n    import pkg.sub\n"
    )
    graph = read_graph(tmp_path, ["pkg"])
    assert graph["pkg.sub"] == {"pkg.base"}
    assert graph["pkg.sub.late"] == {"pkg.base", "pkg.sub"}
