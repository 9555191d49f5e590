"""The center's client of the JPKI authority: revocation status (OCSP, RFC 6960) and the
certificate-serial → municipality mapping (住基ネット), both cached for a bounded time.

When the authority cannot be asked, or answers something that does not verify, the center refuses
(``DependencyUnavailable``): an unchecked certificate is never accepted.

Both questions are lookups, safe to ask again. A connection that breaks is not yet an
unreachable authority: within the client's timeout (all tries together), a connection that could
not be opened is opened again, a few times with a short pause, and a question whose connection
broke before the answer is asked once more on a new connection. An answer with an HTTP status, a
timeout, or a second broken connection is final.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import aiohttp
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from center.errors import DependencyUnavailable, ResidentRefused
from center.jpki_verify import RevocationStatus, UnusableRevocation, judge_ocsp
from center.links import ATTEMPTS, KEEP_ALIVE, pause_before
from center.tls import trust

MAX_RESPONSE_SIZE = 64 * 1024
MAX_OCSP_REQUEST = 1024  # bytes of an OCSP request a terminal has forwarded (one CertID: ~100)
# Keep-alive connections to the authority: as many as a process asks over at once (two questions
# for each card being checked), so none is closed after one use and opened again with a new TLS
# handshake under load.
CONNECTIONS = 80
V = TypeVar("V")


class TtlCache(Generic[V]):
    """A small LRU whose entries expire after ``max_age`` (for one event loop: no locking)."""

    def __init__(self, max_age: dt.timedelta, size: int = 100_000) -> None:
        self.max_age = max_age
        self.size = size
        self._items: OrderedDict[int, tuple[dt.datetime, V]] = OrderedDict()

    def get(self, key: int, now: dt.datetime) -> V | None:
        item = self._items.get(key)
        if item is None or now - item[0] > self.max_age:
            return None
        self._items.move_to_end(key)
        return item[1]

    def put(self, key: int, value: V, now: dt.datetime) -> None:
        self._items[key] = (now, value)
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)


def _unavailable(why: str) -> DependencyUnavailable:
    return DependencyUnavailable("authority_unavailable", why)


def _unreachable(exc: Exception) -> DependencyUnavailable:
    return _unavailable(f"the JPKI authority cannot be reached ({type(exc).__name__})")


@dataclass(frozen=True)
class Revocation:
    """The authority's answer about a certificate: its status, the signed OCSP answer, and the
    serials the certificate renewed as that answer states them (newest first; ``()``: none)."""

    status: RevocationStatus
    ocsp: bytes
    previous_serials: tuple[int, ...] = ()


@dataclass(frozen=True)
class CertificateRecord:
    serial: int
    municipality: str
    status: str
    previous_serial: int | None


class NotOneQuestion(ValueError):
    """An OCSP request that is not exactly one CertID and nothing else."""


def single_certid_request(request_der: bytes) -> bytes:
    """``request_der`` if it is the DER of an OCSP request (RFC 6960) for one certificate and
    nothing more: one CertID, no extension (no nonce), no requestor name, no signature, at most
    :data:`MAX_OCSP_REQUEST` bytes; else :class:`NotOneQuestion`. Checked by building that one
    question again from its CertID and comparing the bytes, so anything else it might carry
    makes it differ."""
    if not request_der or len(request_der) > MAX_OCSP_REQUEST:
        raise NotOneQuestion("not an OCSP request of one certificate")
    try:
        question = ocsp.load_der_ocsp_request(request_der)
        again = (
            ocsp.OCSPRequestBuilder()
            .add_certificate_by_hash(
                question.issuer_name_hash,
                question.issuer_key_hash,
                question.serial_number,
                question.hash_algorithm,
            )
            .build()
            .public_bytes(serialization.Encoding.DER)
        )
    except (ValueError, TypeError, UnsupportedAlgorithm, NotImplementedError):
        # the library reads one request only: NotImplementedError for more than one
        raise NotOneQuestion("not an OCSP request of one certificate") from None
    if again != request_der:
        raise NotOneQuestion("the OCSP request asks more than one certificate's status")
    return request_der


class AuthorityClient:
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        verify: str | bool = True,
        max_age: dt.timedelta = dt.timedelta(seconds=60),
        timeout: float = 3.0,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._verify = trust(verify)
        self._timeout = timeout
        # both made on first use, on the event loop: kept-alive connections, and connections used
        # once for a question asked again after a connection broke
        self._session: aiohttp.ClientSession | None = None
        self._used_once: aiohttp.ClientSession | None = None
        self._clock = clock
        self._status: TtlCache[Revocation] = TtlCache(max_age)
        self._records: TtlCache[CertificateRecord] = TtlCache(max_age)

    async def close(self) -> None:
        for session in (self._session, self._used_once):
            if session is not None:
                await session.close()
        self._session = self._used_once = None

    def _http(self) -> aiohttp.ClientSession:
        """The kept-alive connections."""
        if self._session is None:
            self._session = self._open(kept_alive=True)
        return self._session

    def _new_connections(self) -> aiohttp.ClientSession:
        """Connections used once, for a question asked again: never one the authority may be
        closing."""
        if self._used_once is None:
            self._used_once = self._open(kept_alive=False)
        return self._used_once

    def _open(self, *, kept_alive: bool) -> aiohttp.ClientSession:
        connector = (
            aiohttp.TCPConnector(limit=CONNECTIONS, ssl=self._verify, keepalive_timeout=KEEP_ALIVE)
            if kept_alive
            else aiohttp.TCPConnector(limit=CONNECTIONS, ssl=self._verify, force_close=True)
        )
        return aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=self._timeout),
            headers={"Authorization": f"Bearer {self._token}"},
        )

    async def _ask(
        self, method: str, path: str, body: bytes | None = None, content_type: str | None = None
    ) -> tuple[int, bytes]:
        """One question to the authority: its status and its answer (at most
        :data:`MAX_RESPONSE_SIZE` bytes), within the client's timeout however many tries it takes."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout
        session = self._http()
        broken = False  # once a connection broke with the question sent
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return await self._ask_once(session, method, path, body, content_type, deadline - loop.time())
            except aiohttp.ClientConnectorCertificateError as exc:  # not the authority trusted here
                raise _unreachable(exc) from None
            except aiohttp.ClientConnectorError as exc:  # refused, or reset while opening: not sent
                failure: Exception = exc
                pause = pause_before(attempt)
            except (
                aiohttp.ClientOSError,
                aiohttp.ServerDisconnectedError,
                aiohttp.ClientPayloadError,
                ConnectionResetError,
            ) as exc:
                # sent, and the connection broke before the whole answer came: a kept-alive
                # connection the authority was closing, or a reset on the way
                if broken:
                    raise _unreachable(exc) from None
                broken, failure, pause = True, exc, 0.0
                session = self._new_connections()
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise _unreachable(exc) from None
            if attempt == ATTEMPTS or loop.time() + pause >= deadline:
                raise _unreachable(failure)
            await asyncio.sleep(pause)
        raise AssertionError("unreachable")

    async def _ask_once(
        self,
        session: aiohttp.ClientSession,
        method: str,
        path: str,
        body: bytes | None,
        content_type: str | None,
        time_left: float,
    ) -> tuple[int, bytes]:
        headers = {"Content-Type": content_type} if content_type else None
        async with session.request(
            method,
            f"{self.base_url}{path}",
            data=body,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=time_left),
        ) as response:
            answer = bytearray()
            while chunk := await response.content.read(MAX_RESPONSE_SIZE):
                answer += chunk
                if len(answer) > MAX_RESPONSE_SIZE:
                    raise _unavailable("the JPKI authority's answer is too large")
            return response.status, bytes(answer)

    # -- revocation ----------------------------------------------------------------------------

    async def status(self, certificate: x509.Certificate, issuer: x509.Certificate) -> RevocationStatus:
        return (await self.revocation(certificate, issuer)).status

    async def revocation(self, certificate: x509.Certificate, issuer: x509.Certificate) -> Revocation:
        """The authority's signed answer about ``certificate`` (OCSP), judged: the status, and the
        answer itself, which the center relays to the municipality to judge for itself."""
        now = self._clock()
        cached = self._status.get(certificate.serial_number, now)
        if cached is not None:
            return cached
        # RFC 5019: SHA-1 CertID, no nonce, so the authority can send the answer it signed ahead;
        # freshness comes from the answer's own times (checked by judge_ocsp) and the TLS channel
        request = ocsp.OCSPRequestBuilder().add_certificate(certificate, issuer, hashes.SHA1()).build()
        raw = await self._post(
            "/ocsp", request.public_bytes(serialization.Encoding.DER), "application/ocsp-request"
        )
        try:
            judged = judge_ocsp(raw, certificate, issuer, now)
        except UnusableRevocation as error:
            raise DependencyUnavailable(
                "revocation_unavailable", f"revocation status cannot be trusted: {error}"
            ) from None
        answer = Revocation(judged.status, raw, judged.previous_serials)
        self._status.put(certificate.serial_number, answer, now)
        return answer

    async def forward_ocsp(self, request_der: bytes) -> bytes:
        """The authority's answer (its DER bytes, unjudged) to an OCSP request a terminal made
        about a certificate the center does not check itself (the card's signing certificate, for
        the municipality that will judge the answer): asked as it came, once it is known to be
        one plain question (:func:`single_certid_request`), never cached."""
        return await self._post("/ocsp", single_certid_request(request_der), "application/ocsp-request")

    # -- municipality --------------------------------------------------------------------------

    async def record(self, serial: int) -> CertificateRecord:
        """Which municipality this certificate belongs to (and its status, previous serial)."""
        now = self._clock()
        cached = self._records.get(serial, now)
        if cached is not None:
            return cached
        status, answer = await self._ask("GET", f"/v1/certificates/{serial}")
        if status == 404:
            raise ResidentRefused("certificate_unknown", "the authority does not know this certificate")
        if status != 200:
            raise _unavailable(f"the JPKI authority answered HTTP {status}")
        try:
            body = json.loads(answer)
            record = CertificateRecord(
                int(body["serial"]),
                str(body["municipality"]),
                str(body["status"]),
                None if body.get("previous_serial") is None else int(body["previous_serial"]),
            )
        except (ValueError, KeyError, TypeError):
            raise _unavailable("the authority's answer is malformed") from None
        if record.serial != serial or len(record.municipality) != 6 or not record.municipality.isdigit():
            raise _unavailable("the authority's answer is inconsistent")
        self._records.put(serial, record, now)
        return record

    async def _post(self, path: str, body: bytes, content_type: str) -> bytes:
        status, answer = await self._ask("POST", path, body, content_type)
        if status != 200:
            raise _unavailable(f"the JPKI authority answered HTTP {status}")
        return answer
