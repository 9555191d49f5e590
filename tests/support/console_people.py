"""People at the operators' console, for the tests that drive it with httpx: an account of a role
made as ``koufu center add-operator`` makes it, its passkey registered through its enrolment link
with a software passkey (:mod:`support.soft_passkey`), signed in; a form posted from the console's
own page (its origin, the session's CSRF token); and what a refusal says (its status and code)."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import httpx
import sqlalchemy as sa

from center.store.engine import make_engine
from center.store.tables import audit_log
from support.console_server import RunningConsole, new_account
from support.soft_passkey import SoftPasskey

_names = itertools.count(1)


def unique(prefix: str) -> str:
    """A name no other account of the test session has."""
    return f"{prefix}-{next(_names)}"


@dataclass
class Person:
    name: str
    client: httpx.Client
    passkey: SoftPasskey
    csrf: str = ""

    def change(self, path: str, data: dict[str, str] | None = None, **headers: str) -> httpx.Response:
        """A form posted from the console's page (its origin, this session's token)."""
        return self.client.post(path, data={"csrf": self.csrf, **(data or {})}, headers=headers)


def client(console: RunningConsole) -> httpx.Client:
    return httpx.Client(base_url=console.url, verify=console.tls, timeout=30, headers={"origin": console.url})


JSON = {"accept": "application/json"}


def enrolled(console: RunningConsole, role: str, municipality: str | None = None) -> Person:
    """A new account of ``role``, its passkey registered through its enrolment link (signed in)."""
    name = unique(role)
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
