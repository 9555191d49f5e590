"""Private keys and secrets are files only their owner may read, from their first byte
(``center/private_files.py``), and every product module that writes one goes through it."""

from __future__ import annotations

import ast
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from center.config import AUDIT_CHAIN_KEY, AUDIT_SECRET, BRIDGE_KEY, CONFIG_FILE, initialise
from center.private_files import write_private

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """Every file anyone may read and write unless its creator says otherwise."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_file_is_0600_under_a_permissive_umask(tmp_path: Path, permissive_umask: None) -> None:
    path = tmp_path / "secret.key"
    write_private(path, b"secret")
    assert path.read_bytes() == b"secret" and mode(path) == 0o600
    assert [entry.name for entry in tmp_path.iterdir()] == ["secret.key"]  # no temporary left


def test_an_existing_wider_file_is_not_left_wider(tmp_path: Path, permissive_umask: None) -> None:
    path = tmp_path / "secret.key"
    path.write_bytes(b"old")
    path.chmod(0o666)
    write_private(path, b"new")
    assert path.read_bytes() == b"new" and mode(path) == 0o600


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    write_private(path, b"old")
    with pytest.raises(TypeError):
        write_private(path, "not bytes")  # type: ignore[arg-type]
    assert path.read_bytes() == b"old" and [entry.name for entry in tmp_path.iterdir()] == ["secret.key"]


def test_the_centers_keys_and_secrets_are_0600_under_a_permissive_umask(
    tmp_path: Path, permissive_umask: None
) -> None:
    config = initialise(tmp_path, None, "single")
    private = [CONFIG_FILE, AUDIT_SECRET, AUDIT_CHAIN_KEY, BRIDGE_KEY, "tls.key", "terminal-ca.key"]
    assert {name: mode(config.path(name)) for name in private} == dict.fromkeys(private, 0o600)
    assert config.audit_chain_key != config.audit_secret and len(config.audit_chain_key) == 32


def test_no_product_module_writes_a_file_then_narrows_it() -> None:
    """``chmod`` after a write is the window this module closes: no product or tool module calls
    ``chmod`` (``os.chmod``, ``Path.chmod``) any more; ``write_private`` is the way."""
    found = []
    for package in ("center", "devtools", "koufu"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Attribute) and node.attr == "chmod":
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []
