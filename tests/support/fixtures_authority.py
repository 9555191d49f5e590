"""pytest fixtures: the JPKI authority in-process, on every database backend.

``cas`` (module): CA generations with cached keys, at the fixed test instant :data:`NOW`.
``service`` (function): an :class:`AuthorityService` over a fresh database from ``database_url``
(SQLite and PostgreSQL), its clock fixed at :data:`NOW`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from center.authority.ca import TestAuthority
from center.authority.service import AuthorityService
from center.authority.store import AuthorityStore
from devtools.authority import reused_ca_keys

NOW = dt.datetime(2026, 11, 22, 3, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def cas(tmp_path_factory: pytest.TempPathFactory) -> TestAuthority:
    return TestAuthority.load_or_create(tmp_path_factory.mktemp("ca"), now=NOW, key_factory=reused_ca_keys())


@pytest.fixture
def service(cas: TestAuthority, database_url: str) -> Iterator[AuthorityService]:
    with AuthorityService(cas, AuthorityStore.open(database_url), clock=lambda: NOW) as svc:
        yield svc
