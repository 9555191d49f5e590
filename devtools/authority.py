"""Helpers for tests of the authority and of its users (the center): a ready authority, fast.

RSA-2048 key generation is the slow part (~0.05–0.2 s a key), so CA and card keys are generated
once per process and reused: every authority made here has the same CA keys (distinct from one
another within the authority, as they must be), and :func:`card_key` hands out a few card keys.
Never use these helpers outside tests.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa

from center.authority.keys import KeyFactory, generate_key
from center.authority.service import AuthorityService, Clock, utc_now

_CA_KEYS = 8  # 2 CAs x 3 generations, and room for a fourth generation in tests
_CARD_KEYS = 4


@functools.cache
def _ca_keys() -> tuple[rsa.RSAPrivateKey, ...]:
    return tuple(generate_key() for _ in range(_CA_KEYS))


@functools.cache
def card_key(index: int = 0) -> rsa.RSAPrivateKey:
    """One of a few cached card keys (``index`` 0 to 3), never a CA key."""
    if not 0 <= index < _CARD_KEYS:
        raise ValueError(f"card_key index is 0 to {_CARD_KEYS - 1}")
    return generate_key()


def reused_ca_keys() -> KeyFactory:
    """A key factory for one authority: the cached keys in order, then fresh ones."""
    keys = iter(_ca_keys())
    return lambda: next(keys, None) or generate_key()


def open_test_authority(
    directory: Path,
    *,
    db_url: str | None = None,
    generations: Sequence[int] | None = None,
    now: dt.datetime | None = None,
    clock: Clock = utc_now,
) -> AuthorityService:
    """``AuthorityService.open`` with cached CA keys: a new authority in milliseconds."""
    return AuthorityService.open(
        directory, db_url=db_url, generations=generations, now=now, key_factory=reused_ca_keys(), clock=clock
    )
