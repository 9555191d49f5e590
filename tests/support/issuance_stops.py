"""Issuance stops (交付停止) in the tests that run a center: the reason they give, in both
languages; a stop set or lifted on the center's database through the store (as the console does,
and as the command line does once it has checked its arguments); and the kiosk's words for a stop,
checked to say its reason in the resident's language and not in the other."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from center.config import CenterConfig
from center.store.driver import Database
from kiosk.messages import Catalog

T = TypeVar("T")
JA = "システム障害のため、証明書の交付を停止しています"
EN = "Certificate issuance is stopped because of a system fault"


def on_database(config: CenterConfig, work: Callable[[Database], Awaitable[T]]) -> T:
    """``work`` on the center's database, on connections of its own (closed after)."""

    async def run() -> T:
        database = Database(config.database_url, pool_size=1)
        try:
            return await work(database)
        finally:
            await database.close()

    return asyncio.run(run())


def said(words: str, language: str, *, ja: str = JA, en: str = EN) -> None:
    """``words`` are the kiosk's for a stop of reason ``ja``/``en``: its catalog's, with the reason
    in the resident's ``language``, and without the other language's."""
    reason, other = (ja, en) if language == "ja" else (en, ja)
    assert words == Catalog.load(language).text("refusal.issuance_stopped", reason=reason)
    assert reason in words and other not in words
