"""A terminal's client of the center API (used by the kiosk, the tests and the benchmark).

Signs every request with the terminal's key (``center.protocol``), reads the center's answers
into the models both ends share (``center.messages``) and turns the center's JSON errors into
:class:`CenterRefusal` with the stable code.

A broken connection is tried again within the client's timeout (all tries together), signed
anew (the center takes each nonce once): a connection that could not be opened, a few times with
a short pause (nothing was sent); and once, on a new connection, a request whose connection broke
before the answer, if it is safe to repeat: reads, an order placed under its idempotency key, and
an order's later steps, which the center's order table makes change nothing the second time.
Opening a session, the card's proof (its challenge is taken once), an alarm and a heartbeat (the
next one comes anyway) are not sent twice. Anything else is raised as httpx raised it.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from center.enrolment import EnrolledTerminal
from center.links import ATTEMPTS, KEPT_ALIVE, USED_ONCE, pause_before
from center.messages import (
    AlarmRecorded,
    HeartbeatRecorded,
    HeartbeatReport,
    IssuanceRecordResponse,
    MunicipalitiesResponse,
    OrderResponse,
    RegistrationResponse,
    ResidentResponse,
    SessionResponse,
)
from center.protocol import sign_request
from center.tls import trust
from documents import b64url_decode, b64url_encode

Answer = TypeVar("Answer", bound=BaseModel)


class CenterRefusal(Exception):
    def __init__(self, status: int, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}


@dataclass(frozen=True)
class OpenedSession:
    """A session the center opened (:class:`~center.messages.SessionResponse`, its challenge
    decoded)."""

    session_id: str
    challenge: bytes
    expires_at: dt.datetime


class CenterClient:
    def __init__(
        self, base_url: str, terminal: EnrolledTerminal, *, verify: str | bool = True, timeout: float = 10.0
    ) -> None:
        self.terminal = terminal
        self.timeout = timeout
        self._verify = trust(verify)
        self.http = self._client(base_url, KEPT_ALIVE)
        self._used_once: httpx.Client | None = None  # for a request sent again, made when needed

    def close(self) -> None:
        self.http.close()
        if self._used_once is not None:
            self._used_once.close()

    def _client(self, base_url: str | httpx.URL, limits: httpx.Limits) -> httpx.Client:
        return httpx.Client(base_url=base_url, verify=self._verify, timeout=self.timeout, limits=limits)

    def request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
        repeatable: bool = False,
    ) -> httpx.Response:
        """A signed request (``raw`` sends exact bytes, for tests of bad input); ``repeatable``: the
        center changes nothing if it is received twice, so it is sent again when its connection
        broke before the answer."""
        content = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        deadline = time.monotonic() + self.timeout
        http = self.http
        broken = False  # once a connection broke with the request sent
        for attempt in range(1, ATTEMPTS + 1):
            signed = sign_request(self.terminal.key, self.terminal.terminal_id, method, path, content)
            all_headers = {"Content-Type": "application/json", **signed.as_dict(), **(headers or {})}
            try:
                return http.request(
                    method, path, content=content, headers=all_headers, timeout=deadline - time.monotonic()
                )
            except httpx.ConnectError as error:  # refused, or reset while opening: not sent
                failure: httpx.HTTPError = error
                pause = pause_before(attempt)
            except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError) as error:
                # sent, and the connection broke before the answer came
                if broken or not repeatable:
                    raise
                broken, failure, pause = True, error, 0.0
                http = self._new_connections()
            if attempt == ATTEMPTS or time.monotonic() + pause >= deadline:
                raise failure
            time.sleep(pause)
        raise AssertionError("unreachable")

    def _new_connections(self) -> httpx.Client:
        """Connections used once, for a request sent again: never one the center may be closing."""
        if self._used_once is None:
            self._used_once = self._client(self.http.base_url, USED_ONCE)
        return self._used_once

    def _json(self, response: httpx.Response, expected: int) -> dict[str, Any]:
        if response.status_code != expected:
            try:
                body = response.json()
                raise CenterRefusal(
                    response.status_code,
                    str(body["error"]),
                    str(body["message"]),
                    {k: v for k, v in body.items() if k not in ("error", "message")},
                )
            except (ValueError, KeyError, TypeError):
                raise CenterRefusal(
                    response.status_code, "unexpected_response", response.text[:200]
                ) from None
        result: dict[str, Any] = response.json()
        return result

    def _answer(self, response: httpx.Response, expected: int, model: type[Answer]) -> Answer:
        """The answer read into its message (``pydantic.ValidationError`` if it is not one)."""
        return model.model_validate(self._json(response, expected))

    def open_session(self) -> OpenedSession:
        opened = self._answer(self.request("POST", "/v1/sessions"), 201, SessionResponse)
        return OpenedSession(opened.session_id, b64url_decode(opened.challenge), opened.expires_at)

    def authenticate_resident(
        self, session_id: str, certificate: bytes, signature: bytes
    ) -> ResidentResponse:
        """The card's proof; the resident's municipality and which certificates can be issued now."""
        proof = {
            "certificate": b64url_encode(certificate),
            "signature": b64url_encode(signature),
        }
        return self._answer(
            self.request("POST", f"/v1/sessions/{session_id}/resident", proof), 200, ResidentResponse
        )

    def report_alarm(self, causes: str, state: str) -> AlarmRecorded:
        """The terminal's door or tamper alarm, or wrong staff codes in a row, ``raised`` or ``cleared``."""
        return self._answer(
            self.request("POST", "/v1/terminal/alarms", {"causes": causes, "state": state}),
            200,
            AlarmRecorded,
        )

    def heartbeat(self, report: HeartbeatReport) -> HeartbeatRecorded:
        """The terminal's state (``POST /v1/heartbeats``); the center's time of it."""
        return self._answer(
            self.request("POST", "/v1/heartbeats", report.model_dump(mode="json")), 200, HeartbeatRecorded
        )

    def municipalities(self) -> MunicipalitiesResponse:
        """The participating municipalities, each with its sealing key statement as the center
        relays it (unverified here: :mod:`kiosk.municipalities` verifies them)."""
        return self._answer(
            self.request("GET", "/v1/municipalities", repeatable=True), 200, MunicipalitiesResponse
        )

    # -- orders --------------------------------------------------------------------------------

    def place_order(
        self,
        session_id: str,
        idempotency_key: str,
        items: list[dict[str, Any]],
        *,
        printer: int = 1,
        source: str = "residence",
    ) -> OrderResponse:
        """The order's state and its copies, each ``sealed`` to this terminal (base64url), from
        the resident's municipality or (``source="domicile"``) their registered domicile. The
        body is sent as given (:class:`~center.messages.OrderRequest` is the center's to check;
        ``source`` is left out for the residence, as before it existed)."""
        order: dict[str, Any] = {"idempotency_key": idempotency_key, "printer": printer, "items": items}
        if source != "residence":
            order["source"] = source
        # the same key with the same order is the same order: its copies again, never new ones
        return self._order(
            self.request("POST", f"/v1/sessions/{session_id}/orders", order, repeatable=True), 201
        )

    def offer(self, session_id: str, source: str = "residence") -> dict[str, Any]:
        """What the session's resident can have now (``sealed``: the personal part, for this
        terminal), as their municipality or (``source="domicile"``) their registered domicile
        answered it: the offer has no message of its own yet, so it stays the answer's JSON."""
        query = "" if source == "residence" else f"?source={source}"
        return self._json(
            self.request("GET", f"/v1/sessions/{session_id}/offer{query}", repeatable=True), 200
        )

    # -- the registered domicile (本籍地の利用登録) and the issuance record (交付履歴) ---------------

    def register_domicile(
        self, session_id: str, municipality: str, sealed: bytes, ocsp_request: bytes
    ) -> RegistrationResponse:
        """Apply for the usage registration of the registered domicile ``municipality``: the
        application ``sealed`` to it (its bytes) and the OCSP request (DER) about the card's
        signing certificate. The registration's status, ``sealed`` to this terminal (base64url).
        Sent once (a repeat is a new application)."""
        application = {
            "municipality": municipality,
            "sealed": b64url_encode(sealed),
            "signing_ocsp_request": b64url_encode(ocsp_request),
        }
        return self._answer(
            self.request("POST", f"/v1/sessions/{session_id}/registration", application),
            200,
            RegistrationResponse,
        )

    def registration(self, session_id: str) -> RegistrationResponse:
        """The usage registration the session's holder is known by, sealed to this terminal;
        :class:`CenterRefusal` ``no_registration`` when there is none."""
        return self._answer(
            self.request("GET", f"/v1/sessions/{session_id}/registration", repeatable=True),
            200,
            RegistrationResponse,
        )

    def issuance_record(self, session_id: str) -> IssuanceRecordResponse:
        """The holder's issuance records (residence, and the registered domicile's if any), each
        sealed to this terminal, and the municipalities that could not be asked."""
        return self._answer(
            self.request("GET", f"/v1/sessions/{session_id}/issuance-record", repeatable=True),
            200,
            IssuanceRecordResponse,
        )

    def order(self, order_id: str) -> OrderResponse:
        return self._order(self.request("GET", f"/v1/orders/{order_id}", repeatable=True))

    def printing(self, order_id: str) -> OrderResponse:
        return self._order(self.request("POST", f"/v1/orders/{order_id}/printing", repeatable=True))

    def printed(self, order_id: str, issue_numbers: list[str]) -> OrderResponse:
        return self._order(
            self.request(
                "POST", f"/v1/orders/{order_id}/printed", {"issue_numbers": issue_numbers}, repeatable=True
            )
        )

    def settle(self, order_id: str, paid: int) -> OrderResponse:
        return self._order(
            self.request("POST", f"/v1/orders/{order_id}/settle", {"paid": paid}, repeatable=True)
        )

    def void(self, order_id: str, reason: str) -> OrderResponse:
        return self._order(
            self.request("POST", f"/v1/orders/{order_id}/void", {"reason": reason}, repeatable=True)
        )

    def refunded(self, order_id: str) -> OrderResponse:
        return self._order(self.request("POST", f"/v1/orders/{order_id}/refunded", repeatable=True))

    def _order(self, response: httpx.Response, expected: int = 200) -> OrderResponse:
        """The order's state after the call (its copies only when it was placed)."""
        return self._answer(response, expected, OrderResponse)
