"""The center's client of the municipal issuance servers (証明書交付サーバ): signed requests over
TLS, one connection pool per municipality, and their answers as values or typed errors.

Every request is safe to send again: ``/v1/issue`` is keyed by the order id (the municipality
answers the same request with the very same copies), ``/printed`` and ``/void`` change nothing
the second time, ``/v1/offer`` only reads. So a broken connection is not yet an unreachable
municipality: within the client's timeout (all tries together), a connection that could not be
opened is opened again, a few times with a short pause, and a request whose connection broke
before the answer is sent once more on a new connection, signed anew (a nonce is taken once). An
answer with an HTTP status, a timeout, or a second broken connection is final.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric import ed25519
from pydantic import ValidationError

from center import bridge_protocol
from center.bridge_messages import IssueAnswer
from center.errors import CenterError
from center.links import ATTEMPTS, KEPT_ALIVE, USED_ONCE, pause_before
from center.tls import trust
from documents import b64url_decode

log = logging.getLogger(__name__)
TIMEOUT = 15.0  # seconds: a municipality slower than this fails the order (never half-done)
MAX_SEALED_REASON = 16 * 1024  # characters of a refusal's sealed reason (documents.refusal: 8 KiB)
MAX_SEALED_REGISTRATION = 16 * 1024  # characters of a registration's sealed status (koufu-registration/1)
MAX_SEALED_RECORD = 1024 * 1024  # characters of a sealed issuance record (a year of issuances)
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")
_REGISTRATION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class MunicipalEndpoint:
    url: str
    verify: str | bool = True  # a CA bundle file, or the system's CAs


class MunicipalRefusal(CenterError):
    """The municipality refuses to issue (eligibility): its code and words, for the kiosk. A
    reason about the person is ``refused_by_municipality`` here, its detail ``sealed`` to the
    terminal (relayed as it came: the center cannot open it, and keeps only the code)."""

    status = 422


class MunicipalityUnavailable(CenterError):
    """The municipality cannot be reached or failed: the order is cancelled, never left half-done."""

    status = 503


class MunicipalOrderVoided(CenterError):
    """The municipality heard of the order's void before its request: it issued nothing."""

    status = 409


class ApplicationNotProven(CenterError):
    """The domicile municipality found the usage registration application not proven (its
    signature, its signing certificate or that certificate's revocation answer, or what it
    names): relayed as the stable code, with the municipality's words."""

    status = 422


@dataclass(frozen=True)
class RegistrationAnswer:
    """A domicile municipality's answer about a usage registration (利用登録): its id there, and
    its status sealed to the terminal (``koufu-registration/1``, base64url, relayed unread)."""

    registration_id: str
    sealed: str


class MunicipalClient:
    def __init__(
        self,
        key: ed25519.Ed25519PrivateKey,
        municipalities: Mapping[str, MunicipalEndpoint],
        *,
        timeout: float = TIMEOUT,
    ) -> None:
        self.key = key
        self.municipalities = dict(municipalities)
        self.timeout = timeout
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._used_once: dict[str, httpx.AsyncClient] = {}

    def knows(self, municipality: str) -> bool:
        return municipality in self.municipalities

    async def issue(self, municipality: str, request: Mapping[str, Any]) -> IssueAnswer:
        """The sealed copies for ``request`` (a :class:`center.municipal.requests.IssueRequest` as
        JSON); the same again when asked again."""
        body = self._answer(municipality, await self._post(municipality, "/v1/issue", request))
        try:
            return IssueAnswer.from_json(body)
        except ValidationError:  # a lying or broken municipality: no copy of it is relayed
            log.warning("municipality %s answered an issuance that is not one", municipality)
            raise MunicipalityUnavailable(
                "municipality_error", "the municipality could not serve the order"
            ) from None

    async def offer(self, municipality: str, request: Mapping[str, Any]) -> dict[str, Any]:
        """What the municipality offers the card's holder now (public part + ``sealed``), as its
        JSON: the offer has no message of its own yet, and the center relays it."""
        return self._answer(municipality, await self._post(municipality, "/v1/offer", request))

    async def register(self, municipality: str, request: Mapping[str, Any]) -> RegistrationAnswer:
        """Relay a usage registration application (``POST /v1/registrations``): the
        registration's id and its status sealed to the terminal (a refused application too);
        :class:`ApplicationNotProven` if the municipality found it not proven."""
        answer = await self._post(municipality, "/v1/registrations", request)
        if answer.status_code == 403 and _json(answer).get("error") == "application_not_proven":
            raise ApplicationNotProven(
                "application_not_proven", str(_json(answer).get("message", ""))[:200] or "not proven"
            )
        return self._registration(municipality, self._answer(municipality, answer))

    async def registration(self, municipality: str, request: Mapping[str, Any]) -> RegistrationAnswer | None:
        """The usage registration the holder of ``request`` is known by at ``municipality``
        (``POST /v1/registrations/status``), or ``None`` if it knows none."""
        answer = await self._post(municipality, "/v1/registrations/status", request)
        if answer.status_code == 404 and _json(answer).get("error") == "unknown_registration":
            return None
        return self._registration(municipality, self._answer(municipality, answer))

    async def issuance_record(self, municipality: str, request: Mapping[str, Any]) -> str:
        """The holder's issuance record (交付履歴) at ``municipality`` (``POST /v1/issuance-record``),
        sealed to the terminal (``koufu-issuance-record/1``, base64url, relayed unread)."""
        body = self._answer(municipality, await self._post(municipality, "/v1/issuance-record", request))
        return _sealed_answer(municipality, body.get("sealed"), MAX_SEALED_RECORD)

    @staticmethod
    def _registration(municipality: str, body: dict[str, Any]) -> RegistrationAnswer:
        registration_id = body.get("registration_id")
        if not isinstance(registration_id, str) or not _REGISTRATION_ID.fullmatch(registration_id):
            log.warning("municipality %s answered a registration without an id", municipality)
            raise MunicipalityUnavailable("municipality_error", "the municipality's answer is not one")
        return RegistrationAnswer(
            registration_id, _sealed_answer(municipality, body.get("sealed"), MAX_SEALED_REGISTRATION)
        )

    async def sealing_statement(self, municipality: str) -> bytes:
        """The municipality's sealing key statement (``GET /v1/sealing-key``, unsigned: the
        statement carries the municipality's own signature), its bytes; its form is the caller's
        to check. :class:`MunicipalityUnavailable` if it cannot be had."""
        endpoint = self.municipalities.get(municipality)
        if endpoint is None:
            raise MunicipalityUnavailable(
                "municipality_not_connected", "this municipality is not connected to the service"
            )
        client = self._client(municipality, endpoint, kept_alive=True)
        try:
            answer = await client.get("/v1/sealing-key", timeout=self.timeout)
        except httpx.HTTPError as error:
            raise _unreachable(municipality, error) from None
        body = self._ok(municipality, answer)
        statement = body.get("statement")
        try:
            if body.get("municipality") != municipality or not isinstance(statement, str):
                raise ValueError("not a sealing key answer")
            return b64url_decode(statement)
        except ValueError:
            log.warning("municipality %s answered a sealing key that is not one", municipality)
            raise MunicipalityUnavailable(
                "municipality_error", "the municipality's sealing key is not one"
            ) from None

    async def printed(self, municipality: str, order_id: str, issue_numbers: list[str]) -> None:
        self._ok(
            municipality,
            await self._post(
                municipality, f"/v1/orders/{order_id}/printed", {"issue_numbers": issue_numbers}
            ),
        )

    async def void(
        self, municipality: str, order_id: str, reason: str, issue_numbers: list[str] | None = None
    ) -> None:
        """Tell the municipality the order's copies are void: ``issue_numbers`` only (the others
        were printed), or every one (``None``). An order it never issued (the request never
        arrived) is void already, and it refuses the request if it comes later."""
        document: dict[str, Any] = {"reason": reason}
        if issue_numbers is not None:
            document["issue_numbers"] = issue_numbers
        answer = await self._post(municipality, f"/v1/orders/{order_id}/void", document)
        if answer.status_code == 404:
            return
        self._ok(municipality, answer)

    async def close(self) -> None:
        for clients in (self._clients, self._used_once):
            for client in clients.values():
                await client.aclose()
            clients.clear()

    async def _post(self, municipality: str, path: str, document: Mapping[str, Any]) -> httpx.Response:
        endpoint = self.municipalities.get(municipality)
        if endpoint is None:
            raise MunicipalityUnavailable(
                "municipality_not_connected", "this municipality is not connected to the service"
            )
        body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
        deadline = time.monotonic() + self.timeout
        client = self._client(municipality, endpoint, kept_alive=True)
        broken = False  # once a connection broke with the request sent
        for attempt in range(1, ATTEMPTS + 1):
            headers = {
                **bridge_protocol.sign(self.key, municipality, "POST", path, body),
                "Content-Type": "application/json",
            }
            try:
                return await client.post(
                    path, content=body, headers=headers, timeout=deadline - time.monotonic()
                )
            except httpx.ConnectError as error:  # refused, or reset while opening: not sent
                failure: httpx.HTTPError = error
                pause = pause_before(attempt)
            except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError) as error:
                # sent, and the connection broke before the answer came
                if broken:
                    raise _unreachable(municipality, error) from None
                broken, failure, pause = True, error, 0.0
                client = self._client(municipality, endpoint, kept_alive=False)
            except httpx.HTTPError as error:
                raise _unreachable(municipality, error) from None
            if attempt == ATTEMPTS or time.monotonic() + pause >= deadline:
                raise _unreachable(municipality, failure)
            log.info("municipality %s: %s on %s, trying again", municipality, type(failure).__name__, path)
            await asyncio.sleep(pause)
        raise AssertionError("unreachable")

    def _client(
        self, municipality: str, endpoint: MunicipalEndpoint, *, kept_alive: bool
    ) -> httpx.AsyncClient:
        """The municipality's kept-alive connections, or (``kept_alive=False``) connections used
        once, for a request sent again: never one the server may be closing."""
        clients = self._clients if kept_alive else self._used_once
        client = clients.get(municipality)
        if client is None:
            client = httpx.AsyncClient(
                base_url=endpoint.url,
                verify=trust(endpoint.verify),
                timeout=self.timeout,
                limits=KEPT_ALIVE if kept_alive else USED_ONCE,
            )
            clients[municipality] = client
        return client

    @classmethod
    def _answer(cls, municipality: str, answer: httpx.Response) -> dict[str, Any]:
        """The answer's body; its refusal (422) as :class:`MunicipalRefusal`, an order it was told
        void before its request (409 ``order_voided``) as :class:`MunicipalOrderVoided`, any other
        failure as :class:`MunicipalityUnavailable`."""
        if answer.status_code == 409 and _json(answer).get("error") == "order_voided":
            raise MunicipalOrderVoided("order_voided", "this order was cancelled")
        if answer.status_code == 422:
            body = _json(answer)
            raise MunicipalRefusal(
                str(body.get("error", "refused")),
                str(body.get("message", "")),
                details={"message_ja": str(body.get("message_ja", "")), "sealed": _sealed(body)},
            )
        return cls._ok(municipality, answer)

    @staticmethod
    def _ok(municipality: str, answer: httpx.Response) -> dict[str, Any]:
        if answer.status_code != 200:
            body = _json(answer)
            log.warning("municipality %s answered %d %s", municipality, answer.status_code, body.get("error"))
            raise MunicipalityUnavailable("municipality_error", "the municipality could not serve the order")
        return _json(answer)


def _unreachable(municipality: str, error: httpx.HTTPError) -> MunicipalityUnavailable:
    log.warning("municipality %s unreachable (%s)", municipality, type(error).__name__)
    return MunicipalityUnavailable("municipality_unavailable", "the municipality cannot be reached now")


def _sealed(body: dict[str, Any]) -> str | None:
    """A refusal's sealed reason, relayed only if it looks like one (unpadded base64url)."""
    sealed = body.get("sealed")
    if isinstance(sealed, str) and 0 < len(sealed) <= MAX_SEALED_REASON and _BASE64URL.fullmatch(sealed):
        return sealed
    return None


def _sealed_answer(municipality: str, sealed: object, limit: int) -> str:
    """A sealed answer to relay: unpadded base64url of at most ``limit`` characters, else the
    municipality failed (nothing of it is relayed)."""
    if isinstance(sealed, str) and 0 < len(sealed) <= limit and _BASE64URL.fullmatch(sealed):
        return sealed
    log.warning("municipality %s answered a sealed value that is not one", municipality)
    raise MunicipalityUnavailable("municipality_error", "the municipality's answer is not one")


def _json(answer: httpx.Response) -> dict[str, Any]:
    try:
        body = answer.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
