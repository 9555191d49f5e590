"""The test suite's own layout: no test module imports another, and no shared helper imports a test
module; what the modules share is in ``tests/support/``. Read from the source with :mod:`ast`, so an
import inside a function counts too. The check is shown to fail on modules that break the rule.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterable
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def suite_modules(directory: Path) -> list[Path]:
    """The test modules pytest collects in ``directory`` (``test_*.py``)."""
    return sorted(directory.glob("test_*.py"))


def imports_of_tests(paths: Iterable[Path], tests: Collection[str]) -> list[str]:
    """Every import of a module named in ``tests`` by the modules at ``paths`` (a module's import of
    itself aside), as ``file:line: module``. ``import test_x``, ``from test_x import …``,
    ``from tests.test_x import …``, ``from tests import test_x`` and ``from . import test_x`` all
    count, wherever they are written."""
    found = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                targets = [base]
                if base in ("", "tests"):  # the names are modules of the tests' directory
                    targets += [alias.name for alias in node.names]
            else:
                continue
            found += [
                f"{path.name}:{node.lineno}: {part}"
                for target in targets
                for part in target.split(".")
                if part in tests and part != path.stem
            ]
    return sorted(found, key=lambda line: (line.split(":")[0], int(line.split(":")[1])))


def test_no_test_module_imports_another() -> None:
    modules = suite_modules(TESTS)
    assert len(modules) > 50 and TESTS / "test_orders.py" in modules  # the suite itself was read
    assert imports_of_tests(modules, {path.stem for path in modules}) == []


def test_no_shared_helper_imports_a_test_module() -> None:
    helpers = [*sorted((TESTS / "support").glob("*.py")), TESTS / "conftest.py"]
    assert TESTS / "support" / "world.py" in helpers
    assert imports_of_tests(helpers, {path.stem for path in suite_modules(TESTS)}) == []


def test_the_check_finds_every_form_of_a_test_module_imported(tmp_path: Path) -> None:
    (tmp_path / "test_first.py").write_text("SHARED = 1\n\n\ndef test_first() -> None:\n    assert SHARED\n")
    (tmp_path / "test_second.py").write_text("from test_first import SHARED\n")
    (tmp_path / "test_third.py").write_text(
        "import json\n"
        "from support.world import World\n"  # a helper: allowed
        "import test_first as first\n"
        "\n"
        "\n"
        "def test_late() -> None:\n"
        "    from tests import test_second\n"
        "    from . import test_first\n"
        "    from tests.test_second import SHARED\n"
    )
    (tmp_path / "test_fourth.py").write_text("import testing\nfrom test_fourth import nothing\n")
    modules = suite_modules(tmp_path)
    assert [path.name for path in modules] == [
        "test_first.py",
        "test_fourth.py",
        "test_second.py",
        "test_third.py",
    ]
    assert imports_of_tests(modules, {path.stem for path in modules}) == [
        "test_second.py:1: test_first",
        "test_third.py:3: test_first",
        "test_third.py:7: test_second",
        "test_third.py:8: test_first",
        "test_third.py:9: test_second",
    ]
    assert imports_of_tests(modules[:2], {path.stem for path in modules}) == []
