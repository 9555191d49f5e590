"""Waiting in a test for something a running process does in its own time."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest


def eventually(check: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    """``check()``'s first true answer, asked every 0.1 s; the test fails after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            pytest.fail(f"never: {what}")
        time.sleep(0.1)
    return result
