"""People at the operators' console for the httpx tests: a client of the console's origin, a
person who registered a software passkey (:mod:`support.soft_passkey`) through their enrolment
link and signs in with it, the forms they post with their session's CSRF token, and what a
refusal says (a page's ``data-error`` or the JSON's ``error``). The console may be the tests' own
(:mod:`support.console_server`) or a ``koufu center console`` process."""

from __future__ import annotations

import itertools
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from support.console_server import RunningConsole, new_account
from support.issuance_stops import EN, JA
from support.soft_passkey import SoftPasskey

JSON = {"accept": "application/json"}
_names = itertools.count(1)


def unique(prefix: str) -> str:
    """A name no other account of the test run has."""
    return f"{prefix}-{next(_names)}"


@dataclass
class Person:
    name: str
    client: httpx.Client
    passkey: SoftPasskey
    csrf: str = ""

    def change(self, path: str, data: Mapping[str, Any] | None = None, **headers: str) -> httpx.Response:
        """A form posted from the console's page (its origin, this session's token)."""
        return self.client.post(path, data={"csrf": self.csrf, **(data or {})}, headers=headers)


def console_client(url: str, tls: ssl.SSLContext) -> httpx.Client:
    """A client of the console at ``url`` (its origin), as its own pages send requests."""
    return httpx.Client(base_url=url, verify=tls, timeout=30, headers={"origin": url})


def client(console: RunningConsole) -> httpx.Client:
    return console_client(console.url, console.tls)


def enrolled_by_link(url: str, tls: ssl.SSLContext, name: str, link: str) -> Person:
    """``name`` registers a software passkey through ``link`` (their enrolment link), signed in."""
    token = link.split("token=")[1]
    person = Person(name, console_client(url, tls), SoftPasskey(url))
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


def enrolled(console: RunningConsole, role: str, municipality: str | None = None) -> Person:
    """A new account of ``role``, its passkey registered through its enrolment link (signed in)."""
    name = unique(role)
    link = new_account(console, name, role, municipality)
    return enrolled_by_link(console.url, console.tls, name, link.url)


def sign_in(person: Person) -> httpx.Response:
    """A new session for ``person`` with their passkey (the answer of ``/sign-in/verify``)."""
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


# -- the Incidents page ---------------------------------------------------------------------------


def stop_form(scope: str, ja: str = JA, en: str = EN, **target: str) -> dict[str, str]:
    """The Incidents page's stop form as typed: ``target`` is the field of the scope's target
    (``municipality``, ``certificate_type``, ``terminal``), if any."""
    return {"scope": scope, "reason_ja": ja, "reason_en": en, **target}


def stop_through_the_page(person: Person, typed: dict[str, str]) -> int:
    """A stop reviewed, then confirmed, on the Incidents page: its id."""
    reviewed = person.change("/incidents/review", typed)
    assert reviewed.status_code == 200 and 'id="confirm"' in reviewed.text, reviewed.text[-3000:]
    done = person.change("/incidents/stops", typed)
    assert done.status_code == 303, done.text[-3000:]
    found = re.fullmatch(r"/incidents\?set=(\d+)", done.headers["location"])
    assert found, done.headers["location"]
    return int(found.group(1))


def lift_through_the_page(person: Person, stop_id: int) -> None:
    done = person.change(f"/incidents/stops/{stop_id}/lift")
    assert done.status_code == 303 and done.headers["location"] == f"/incidents?lifted={stop_id}", done.text
