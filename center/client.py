"""A terminal's client of the center API (used by the kiosk, the tests and the benchmark).

Signs every request with the terminal's key (``center.protocol``) and turns the center's JSON
errors into :class:`CenterRefusal` with the stable code.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import httpx

from center.protocol import sign_request
from center.terminals import EnrolledTerminal
from center.tls import trust


class CenterRefusal(Exception):
    def __init__(self, status: int, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}


@dataclass(frozen=True)
class OpenedSession:
    session_id: str
    challenge: bytes
    expires_at: dt.datetime


class CenterClient:
    def __init__(self, base_url: str, terminal: EnrolledTerminal, *, verify: str | bool = True,
                 timeout: float = 10.0) -> None:
        self.terminal = terminal
        self.http = httpx.Client(base_url=base_url, verify=trust(verify), timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def request(self, method: str, path: str, body: dict[str, Any] | None = None, *,
                raw: bytes | None = None, headers: dict[str, str] | None = None) -> httpx.Response:
        """A signed request (``raw`` sends exact bytes, for tests of bad input)."""
        content = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        signed = sign_request(self.terminal.key, self.terminal.terminal_id, method, path, content)
        all_headers = {"Content-Type": "application/json", **signed.as_dict(), **(headers or {})}
        return self.http.request(method, path, content=content, headers=all_headers)

    def _json(self, response: httpx.Response, expected: int) -> dict[str, Any]:
        if response.status_code != expected:
            try:
                body = response.json()
                raise CenterRefusal(response.status_code, str(body["error"]), str(body["message"]),
                                    {k: v for k, v in body.items() if k not in ("error", "message")})
            except (ValueError, KeyError, TypeError):
                raise CenterRefusal(response.status_code, "unexpected_response", response.text[:200]) \
                    from None
        result: dict[str, Any] = response.json()
        return result

    def open_session(self) -> OpenedSession:
        body = self._json(self.request("POST", "/v1/sessions"), 201)
        return OpenedSession(body["session_id"], base64.b64decode(body["challenge"]),
                             dt.datetime.fromisoformat(body["expires_at"]))

    def authenticate_resident(self, session_id: str, certificate: bytes, signature: bytes) -> dict[str, Any]:
        proof = {"certificate": base64.b64encode(certificate).decode(),
                 "signature": base64.b64encode(signature).decode()}
        return self._json(self.request("POST", f"/v1/sessions/{session_id}/resident", proof), 200)

    def report_alarm(self, causes: str, state: str) -> None:
        """The terminal's door or tamper alarm ``raised`` or ``cleared``."""
        self._json(self.request("POST", "/v1/terminal/alarms", {"causes": causes, "state": state}), 200)

    # -- orders --------------------------------------------------------------------------------

    def place_order(self, session_id: str, idempotency_key: str, items: list[dict[str, Any]], *,
                    printer: int = 1) -> dict[str, Any]:
        """The order's state and its copies, each ``sealed`` to this terminal (base64url)."""
        order = {"idempotency_key": idempotency_key, "printer": printer, "items": items}
        return self._json(self.request("POST", f"/v1/sessions/{session_id}/orders", order), 201)

    def offer(self, session_id: str) -> dict[str, Any]:
        """What the session's resident can have now (``sealed``: the personal part, for this terminal)."""
        return self._json(self.request("GET", f"/v1/sessions/{session_id}/offer"), 200)

    def order(self, order_id: str) -> dict[str, Any]:
        return self._json(self.request("GET", f"/v1/orders/{order_id}"), 200)

    def printed(self, order_id: str, issue_numbers: list[str]) -> dict[str, Any]:
        return self._json(self.request("POST", f"/v1/orders/{order_id}/printed",
                                       {"issue_numbers": issue_numbers}), 200)

    def settle(self, order_id: str, paid: int) -> dict[str, Any]:
        return self._json(self.request("POST", f"/v1/orders/{order_id}/settle", {"paid": paid}), 200)

    def void(self, order_id: str, reason: str) -> dict[str, Any]:
        return self._json(self.request("POST", f"/v1/orders/{order_id}/void", {"reason": reason}), 200)

    def refunded(self, order_id: str) -> dict[str, Any]:
        return self._json(self.request("POST", f"/v1/orders/{order_id}/refunded"), 200)
