"""The certificate store's word on a copy (交付記録の照会): ``GET /v1/verify`` at the center, asked
with the copy's issue number and verification code, answers whether the copy was printed, voided
or is unknown, with its content hash and page count.

:class:`CenterStatus` asks a center over TLS; any callable of the same shape
(:data:`StatusSource`) will do, such as the center's own page reading its database directly.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from documents import DocumentError
from documents.errors import MalformedDocument
from printing.published_keys import PublishedKeys, load_keys

__all__ = ["CenterStatus", "StatusSource", "StatusUnavailable", "StoreAnswer"]

VERIFY_PATH = "/v1/verify"
KEYS_PATH = "/verify/keys.json"  # the municipal keys the center's verification page uses
TIMEOUT = 10.0  # seconds for the center's answer


class StatusUnavailable(DocumentError):
    """The certificate store could not be asked, or answered something that is not an answer."""

    code = "status_unavailable"


@dataclass(frozen=True)
class StoreAnswer:
    """What the certificate store says of a copy (``GET /v1/verify``)."""

    issue_number: str
    status: str  # valid, voided, not_printed, unknown
    municipality: str | None = None
    issued_on: str | None = None  # YYYY-MM-DD
    pages: int | None = None
    content_hash: bytes | None = None

    @classmethod
    def from_json(cls, value: Any) -> StoreAnswer:
        """The endpoint's JSON answer; :class:`StatusUnavailable` for anything else."""
        try:
            status = value["status"]
            if status not in ("valid", "voided", "not_printed", "unknown"):
                raise ValueError(status)
            digest = value.get("content_hash")
            pages = value.get("pages")
            if pages is not None and type(pages) is not int:
                raise ValueError("pages")
            return cls(
                str(value["issue_number"]),
                status,
                value.get("municipality"),
                value.get("issued_on"),
                pages,
                None if digest is None else bytes.fromhex(digest),
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            raise StatusUnavailable("the certificate store's answer is not one") from None


#: Asks the store: (issue number, verification code) → its answer.
StatusSource = Callable[[str, str], StoreAnswer]


class CenterStatus:
    """The center's public ``GET /v1/verify`` over TLS (``ca``: the center's CA certificate file;
    ``None``: the system's CAs). A :data:`StatusSource`; also fetches the keys the center publishes."""

    def __init__(self, url: str, *, ca: str | Path | None = None, timeout: float = TIMEOUT) -> None:
        verify: ssl.SSLContext | bool = True if ca is None else ssl.create_default_context(cafile=str(ca))
        self.http = httpx.Client(base_url=url, verify=verify, timeout=timeout)

    def __call__(self, issue_number: str, code: str) -> StoreAnswer:
        answer = self._get(VERIFY_PATH, {"issue_number": issue_number, "code": code})
        try:
            return StoreAnswer.from_json(answer.json())
        except ValueError:
            raise StatusUnavailable("the certificate store's answer is not JSON") from None

    def keys(self) -> PublishedKeys:
        """The municipal keys the center's verification page uses (``/verify/keys.json``)."""
        try:
            return load_keys(self._get(KEYS_PATH, {}).content)
        except MalformedDocument as error:
            raise StatusUnavailable(f"the center's published keys are not usable: {error}") from None

    def _get(self, path: str, params: dict[str, str]) -> httpx.Response:
        try:
            answer = self.http.get(path, params=params)
        except httpx.HTTPError as error:
            raise StatusUnavailable(f"the center cannot be asked ({type(error).__name__})") from None
        if answer.status_code != 200:
            raise StatusUnavailable(f"the center answered HTTP {answer.status_code}")
        return answer

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> CenterStatus:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
