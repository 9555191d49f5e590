"""The center's client of the municipal issuance servers (証明書交付サーバ): signed requests over
TLS, one connection pool per municipality, and their answers as values or typed errors.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric import ed25519

from center import bridge_protocol
from center.errors import CenterError
from center.tls import trust

log = logging.getLogger(__name__)
TIMEOUT = 15.0  # seconds: a municipality slower than this fails the order (never half-done)


@dataclass(frozen=True)
class MunicipalEndpoint:
    url: str
    verify: str | bool = True  # a CA bundle file, or the system's CAs


class MunicipalRefusal(CenterError):
    """The municipality refuses to issue (eligibility): its code and words, for the kiosk."""

    status = 422


class MunicipalityUnavailable(CenterError):
    """The municipality cannot be reached or failed: the order is cancelled, never left half-done."""

    status = 503


class MunicipalClient:
    def __init__(self, key: ed25519.Ed25519PrivateKey, municipalities: Mapping[str, MunicipalEndpoint], *,
                 timeout: float = TIMEOUT) -> None:
        self.key = key
        self.municipalities = dict(municipalities)
        self.timeout = timeout
        self._clients: dict[str, httpx.AsyncClient] = {}

    def knows(self, municipality: str) -> bool:
        return municipality in self.municipalities

    async def issue(self, municipality: str, request: Mapping[str, Any]) -> dict[str, Any]:
        """The sealed copies for ``request`` (a :class:`center.municipal.requests.IssueRequest` as
        JSON); the same again when asked again."""
        return self._answer(municipality, await self._post(municipality, "/v1/issue", request))

    async def offer(self, municipality: str, request: Mapping[str, Any]) -> dict[str, Any]:
        """What the municipality offers the card's holder now (public part + ``sealed``)."""
        return self._answer(municipality, await self._post(municipality, "/v1/offer", request))

    async def printed(self, municipality: str, order_id: str, issue_numbers: list[str]) -> None:
        self._ok(municipality, await self._post(municipality, f"/v1/orders/{order_id}/printed",
                                                {"issue_numbers": issue_numbers}))

    async def void(self, municipality: str, order_id: str, reason: str) -> None:
        """Tell the municipality the order's copies are void. An order it never issued (the
        request never arrived) is void already."""
        answer = await self._post(municipality, f"/v1/orders/{order_id}/void", {"reason": reason})
        if answer.status_code == 404:
            return
        self._ok(municipality, answer)

    async def close(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()

    async def _post(self, municipality: str, path: str, document: Mapping[str, Any]) -> httpx.Response:
        endpoint = self.municipalities.get(municipality)
        if endpoint is None:
            raise MunicipalityUnavailable("municipality_not_connected",
                                          "this municipality is not connected to the service")
        client = self._clients.get(municipality)
        if client is None:
            client = httpx.AsyncClient(base_url=endpoint.url, verify=trust(endpoint.verify),
                                       timeout=self.timeout)
            self._clients[municipality] = client
        body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {**bridge_protocol.sign(self.key, municipality, "POST", path, body),
                   "Content-Type": "application/json"}
        try:
            return await client.post(path, content=body, headers=headers)
        except httpx.HTTPError as error:
            log.warning("municipality %s unreachable (%s)", municipality, type(error).__name__)
            raise MunicipalityUnavailable("municipality_unavailable",
                                          "the municipality cannot be reached now") from None

    @classmethod
    def _answer(cls, municipality: str, answer: httpx.Response) -> dict[str, Any]:
        """The answer's body; its refusal (422) as :class:`MunicipalRefusal`, any other failure as
        :class:`MunicipalityUnavailable`."""
        if answer.status_code == 422:
            body = _json(answer)
            raise MunicipalRefusal(str(body.get("error", "refused")), str(body.get("message", "")),
                                   details={"message_ja": str(body.get("message_ja", ""))})
        return cls._ok(municipality, answer)

    @staticmethod
    def _ok(municipality: str, answer: httpx.Response) -> dict[str, Any]:
        if answer.status_code != 200:
            body = _json(answer)
            log.warning("municipality %s answered %d %s", municipality, answer.status_code, body.get("error"))
            raise MunicipalityUnavailable("municipality_error", "the municipality could not serve the order")
        return _json(answer)


def _json(answer: httpx.Response) -> dict[str, Any]:
    try:
        body = answer.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
