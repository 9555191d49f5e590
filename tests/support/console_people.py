"""People at the operators' console, for the tests: an account of a role made as ``koufu center
add-operator`` makes it, its passkey registered through its enrolment link with a software passkey
(``support.soft_passkey``), and an httpx client signed in with it; a change posted as the
console's own page posts it (its origin, the session's CSRF token); what the console answered
(a refusal's status and code, from a page or JSON) and what it wrote to the audit log."""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import sqlalchemy as sa

from center.store.engine import make_engine
from center.store.tables import audit_log
from support.console_server import RunningConsole, new_account
from support.soft_passkey import SoftPasskey

JSON = {"accept": "application/json"}
_names = itertools.count(1)


def next_name() -> int:
    """A number no other account of this test run has (names must be unique per console)."""
    return next(_names)


@dataclass
class Person:
    name: str
    client: httpx.Client
    passkey: SoftPasskey
    csrf: str = ""

    def change(self, path: str, data: Mapping[str, Any] | None = None, **headers: str) -> httpx.Response:
        """A form posted from the console's page (its origin, this session's token)."""
        return self.client.post(path, data={"csrf": self.csrf, **(data or {})}, headers=headers)


def client(console: RunningConsole) -> httpx.Client:
    return httpx.Client(base_url=console.url, verify=console.tls, timeout=30, headers={"origin": console.url})


def enrolled(console: RunningConsole, role: str, municipality: str | None = None) -> Person:
    """A new account of ``role``, its passkey registered through its enrolment link (signed in)."""
    name = f"{role}-{next_name()}"
    link = new_account(console, name, role, municipality)
    token = link.url.split("token=")[1]
    person = Person(name, client(console), SoftPasskey(console.url))
    begun = person.client.post("/enrol/options", json={"token": token}, headers=JSON)
    assert begun.status_code == 200, begun.text
    answer = person.passkey.create(begun.json()["publicKey"])
    done = person.client.post(
        "/enrol/verify",
        json={"ceremony": begun.json()["ceremony"], "token": token, "credential": answer},
        headers=JSON,
    )
    assert done.status_code == 200 and done.json() == {"next": "/"}, done.text
    person.csrf = csrf_of(person.client.get("/"))
    return person


def sign_in(console: RunningConsole, person: Person) -> httpx.Response:
    person.client.cookies.clear()
    begun = person.client.post("/sign-in/options", json={}, headers=JSON).json()
    answer = person.passkey.get(begun["publicKey"])
    done = person.client.post(
        "/sign-in/verify", json={"ceremony": begun["ceremony"], "credential": answer}, headers=JSON
    )
    if done.status_code == 200:
        person.csrf = csrf_of(person.client.get("/"))
    return done


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text)
    assert found, page.text[:500]
    return found.group(1)


def refusal(answer: httpx.Response) -> tuple[int, str]:
    """The status and the refusal's code, from a page (``data-error``) or JSON."""
    if answer.headers.get("content-type", "").startswith("application/json"):
        return answer.status_code, answer.json()["error"]
    found = re.search(r'data-error="([^"]+)"', answer.text)
    return answer.status_code, found.group(1) if found else ""


def audited(console: RunningConsole, event: str) -> list[sa.Row[tuple[object, ...]]]:
    """The audit log's lines of ``event``, oldest first."""
    engine = make_engine(console.config.database_url)
    try:
        with engine.connect() as connection:
            return list(
                connection.execute(
                    sa.select(audit_log).where(audit_log.c.event == event).order_by(audit_log.c.seq)
                )
            )
    finally:
        engine.dispose()
