"""The console's pages: every module of this package is one page, found when the console starts.

A page's module holds ``PAGE`` (a :class:`center.console.page.Page`: its path, title, and which
roles read it and change through it) and ``router`` (a FastAPI ``APIRouter``) whose routes take
the viewer from ``Depends(admitted(PAGE))``; its template is ``templates/<slug>.html``, extending
``base.html``. Nothing else needs to change to add one: the menu lists it for the roles that read
it, and the guard enforces what it declares.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass

from fastapi import APIRouter

from center.console.page import Page


@dataclass(frozen=True)
class Found:
    page: Page
    router: APIRouter


def found() -> list[Found]:
    """Every page of this package, in menu order."""
    pages = []
    for module in pkgutil.iter_modules(__path__):
        loaded = importlib.import_module(f"{__name__}.{module.name}")
        page, router = getattr(loaded, "PAGE", None), getattr(loaded, "router", None)
        if not isinstance(page, Page) or not isinstance(router, APIRouter):
            raise TypeError(f"console page module {module.name} needs PAGE and router")
        pages.append(Found(page, router))
    slugs = [entry.page.slug for entry in pages]
    if len(slugs) != len(set(slugs)):
        raise ValueError("two console pages share a slug")
    return sorted(pages, key=lambda entry: entry.page.order)
