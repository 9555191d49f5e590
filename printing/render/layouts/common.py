"""What the layouts share: the page body's type and cutting a list into pages."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from printing.render.sheet import Box, Sheet

#: draws one page's body into the given area
PageBody = Callable[[Sheet, Box], None]
T = TypeVar("T")


def chunks(items: Sequence[T], per_page: int) -> list[Sequence[T]]:
    """``items`` cut into pages of ``per_page`` (one empty page when there are none)."""
    return [items[start : start + per_page] for start in range(0, len(items), per_page)] or [items[:0]]
