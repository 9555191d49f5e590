"""The center's client of the JPKI authority against an authority that answers badly: a real HTTP
server on loopback (aiohttp) whose answers are wrong in one way each. The center must refuse
(503 ``*_unavailable``, or the resident refused where the authority said so), never accept."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509 import ocsp

from center.authority.service import AuthorityService
from center.authority_client import MAX_RESPONSE_SIZE, AuthorityClient
from center.errors import CenterError
from center.jpki_verify import RevocationStatus
from center.previous_serials import PREVIOUS_SERIALS_OID, encode
from devtools.authority import card_key, open_test_authority
from support.previous_serials import malformed

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SERIAL_PATH = "/v1/certificates/{serial}"


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthorityService]:
    service = open_test_authority(tmp_path_factory.mktemp("authority") / "authority")
    yield service
    service.close()


@pytest.fixture(scope="module")
def card(authority: AuthorityService) -> tuple[x509.Certificate, x509.Certificate]:
    certificate = authority.issue_user_auth(
        card_key().public_key(), birth_date=dt.date(1980, 4, 1), municipality="131016"
    )
    return certificate, authority.authority.issuer_of(certificate).certificate


def ask(handler: Handler, question: Callable[[AuthorityClient], Awaitable[object]]) -> object:
    """``question`` to an authority whose every answer is ``handler``'s; the outcome or the error."""

    async def run() -> object:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        client = AuthorityClient(f"http://127.0.0.1:{port}", "token", timeout=2.0)
        try:
            return await question(client)
        except CenterError as error:
            return error
        finally:
            await client.close()
            await runner.cleanup()

    return asyncio.run(run())


def answering(status: int, body: bytes, content_type: str = "application/json") -> Handler:
    async def handler(_request: web.Request) -> web.StreamResponse:
        return web.Response(status=status, body=body, content_type=content_type)

    return handler


async def oversize_chunked(request: web.Request) -> web.StreamResponse:
    """An answer over the limit sent without a length (chunked): refused for its size, not
    read whole and then found not to be OCSP."""
    response = web.StreamResponse()
    await response.prepare(request)
    for _ in range(2 * MAX_RESPONSE_SIZE // 8192):
        await response.write(b"x" * 8192)
    await response.write_eof()
    return response


def code(outcome: object) -> str:
    assert isinstance(outcome, CenterError), outcome
    return outcome.code


@pytest.mark.parametrize(
    ("handler", "expected"),
    [
        (answering(200, b"not OCSP", "application/ocsp-response"), "revocation_unavailable"),
        (answering(500, b"", "text/plain"), "authority_unavailable"),
        (
            answering(200, b"x" * (MAX_RESPONSE_SIZE + 1), "application/ocsp-response"),
            "authority_unavailable",
        ),
        (oversize_chunked, "authority_unavailable"),
    ],
)
def test_bad_revocation_answers_are_refused(
    card: tuple[x509.Certificate, x509.Certificate], handler: Handler, expected: str
) -> None:
    certificate, issuer = card
    assert code(ask(handler, lambda client: client.status(certificate, issuer))) == expected


@pytest.mark.parametrize(
    ("answer", "status", "expected"),
    [
        (b"{not json", 200, "authority_unavailable"),
        (b'{"serial": 1}', 200, "authority_unavailable"),
        (
            json.dumps({"serial": 999, "municipality": "131016", "status": "good"}).encode(),
            200,
            "authority_unavailable",
        ),  # about another certificate
        (
            json.dumps({"serial": "{serial}", "municipality": "13101", "status": "good"}).encode(),
            200,
            "authority_unavailable",
        ),  # not a municipality code
        (b'{"error": "unknown_certificate"}', 404, "certificate_unknown"),
        (b"", 503, "authority_unavailable"),
    ],
)
def test_bad_municipality_answers_are_refused(
    card: tuple[x509.Certificate, x509.Certificate], answer: bytes, status: int, expected: str
) -> None:
    serial = card[0].serial_number
    body = answer.replace(b'"{serial}"', str(serial).encode())
    assert code(ask(answering(status, body), lambda client: client.record(serial))) == expected


def test_a_good_answer_is_believed(card: tuple[x509.Certificate, x509.Certificate]) -> None:
    """The other side of the tests above: the same server answering well is believed."""
    serial = card[0].serial_number
    good = json.dumps(
        {"serial": serial, "municipality": "131016", "status": "good", "previous_serial": None}
    ).encode()
    record = ask(answering(200, good), lambda client: client.record(serial))
    assert not isinstance(record, CenterError)
    assert (record.serial, record.municipality, record.status) == (serial, "131016", "good")  # type: ignore[attr-defined]


def ocsp_answer(
    authority: AuthorityService,
    card: tuple[x509.Certificate, x509.Certificate],
    *,
    serial: int | None = None,
    this_update: dt.datetime | None = None,
    next_update: dt.timedelta | None = dt.timedelta(minutes=10),
    nonce: bytes | None = None,
    key: rsa.RSAPrivateKey | None = None,
    extension: x509.ExtensionType | None = None,
) -> Handler:
    """An OCSP answer "good" for ``card`` made by the authority's CA key, with one thing changed."""
    certificate, issuer = card
    ca = authority.authority.issuer_of(certificate)
    responder = issuer
    if key is not None:  # a forger's CA of the same name
        responder = x509.CertificateBuilder(
            issuer.subject,
            issuer.subject,
            key.public_key(),
            1,
            issuer.not_valid_before_utc,
            issuer.not_valid_after_utc,
        ).sign(key, hashes.SHA256())
    if serial is not None:  # about another certificate of the same CA
        certificate = x509.CertificateBuilder(
            issuer.subject,
            certificate.subject,
            certificate.public_key(),
            serial,
            certificate.not_valid_before_utc,
            certificate.not_valid_after_utc,
        ).sign(ca.key, hashes.SHA256())
    this_update = (this_update or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    builder = (
        ocsp.OCSPResponseBuilder()
        .add_response(
            cert=certificate,
            issuer=issuer,
            algorithm=hashes.SHA1(),
            cert_status=ocsp.OCSPCertStatus.GOOD,
            this_update=this_update,
            next_update=this_update + next_update if next_update else None,
            revocation_time=None,
            revocation_reason=None,
        )
        .responder_id(ocsp.OCSPResponderEncoding.HASH, responder)
    )
    if nonce is not None:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    if extension is not None:
        builder = builder.add_extension(extension, critical=False)
    der = builder.sign(key or ca.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
    return answering(200, der, "application/ocsp-response")


def test_ocsp_answers_that_do_not_hold_are_refused(
    authority: AuthorityService, card: tuple[x509.Certificate, x509.Certificate]
) -> None:
    certificate, issuer = card
    now = dt.datetime.now(dt.UTC)
    bad = {  # the reason given: each answer is refused for its own fault
        "another certificate": ocsp_answer(authority, card, serial=certificate.serial_number + 1),
        "stale": ocsp_answer(authority, card, this_update=now - dt.timedelta(hours=1)),
        "from the future": ocsp_answer(authority, card, this_update=now + dt.timedelta(hours=1)),
        "without nextUpdate": ocsp_answer(authority, card, next_update=None),
        "a nonce the question did not": ocsp_answer(authority, card, nonce=b"replayed"),
        "signature does not verify": ocsp_answer(authority, card, key=card_key(3)),
    }
    for why, handler in bad.items():
        outcome = ask(handler, lambda client: client.status(certificate, issuer))
        assert code(outcome) == "revocation_unavailable" and why in str(outcome.message), why  # type: ignore[attr-defined]


def test_a_good_ocsp_answer_and_the_authoritys_own_are_believed(
    authority: AuthorityService, card: tuple[x509.Certificate, x509.Certificate]
) -> None:
    certificate, issuer = card
    made = ask(ocsp_answer(authority, card), lambda client: client.status(certificate, issuer))
    assert made is RevocationStatus.GOOD

    async def authoritys(request: web.Request) -> web.StreamResponse:
        """What the authority's responder answers to the client's own question (RFC 5019 form)."""
        answer = authority.ocsp_response(await request.read())
        return web.Response(body=answer, content_type="application/ocsp-response")

    assert ask(authoritys, lambda client: client.status(certificate, issuer)) is RevocationStatus.GOOD
    record = authority.store.get(certificate.serial_number)
    assert record is not None and record.answer is not None  # the question was of the kept form


def test_an_unreachable_authority_is_refused(tmp_path: Path) -> None:
    async def question() -> object:
        client = AuthorityClient("http://127.0.0.1:9", "token", timeout=2.0)  # discard port: nothing
        try:
            return await client.record(12345)
        except CenterError as error:
            return error
        finally:
            await client.close()

    assert code(asyncio.run(question())) == "authority_unavailable"


async def _closing_server(hang_ups: int) -> tuple[asyncio.Server, list[int]]:
    """A server that hangs up on the first ``hang_ups`` requests it reads (a kept-alive connection
    the other side had just closed), then answers 200 "ok"."""
    seen: list[int] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.readuntil(b"\r\n\r\n"):
            seen.append(1)
            if len(seen) <= hang_ups:
                writer.close()
                return
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok")
            await writer.drain()

    return await asyncio.start_server(serve, "127.0.0.1", 0), seen


def test_a_connection_the_authority_just_closed_is_asked_again_once() -> None:
    async def ask(hang_ups: int) -> tuple[object, int]:
        server, seen = await _closing_server(hang_ups)
        port = server.sockets[0].getsockname()[1]
        client = AuthorityClient(f"http://127.0.0.1:{port}", "token", verify=False)
        try:
            # a POST, as the authority's questions are (aiohttp repeats no POST by itself)
            return await client._ask("POST", "/v1/ocsp", b"question", "application/ocsp-request"), len(seen)
        except CenterError as error:
            return error.code, len(seen)
        finally:
            await client.close()
            server.close()

    assert asyncio.run(ask(1)) == ((200, b"ok"), 2)  # hung up once: asked again, answered
    assert asyncio.run(ask(5)) == ("authority_unavailable", 2)  # twice: unavailable, no more tries


def _authoritys_answers(authority: AuthorityService) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        answer = authority.ocsp_response(await request.read())
        return web.Response(body=answer, content_type="application/ocsp-response")

    return handler


def test_the_serials_a_renewed_card_replaced_come_with_its_status(authority: AuthorityService) -> None:
    first = authority.issue_user_auth(
        card_key(1).public_key(), birth_date=dt.date(1980, 4, 1), municipality="131016"
    )
    second = authority.renew(first.serial_number, card_key(2).public_key(), birth_date=dt.date(1980, 4, 1))
    third = authority.renew(second.serial_number, card_key(3).public_key(), birth_date=dt.date(1980, 4, 1))
    issuer = authority.authority.issuer_of(third).certificate
    revocation = ask(_authoritys_answers(authority), lambda client: client.revocation(third, issuer))
    assert not isinstance(revocation, CenterError)
    assert revocation.status is RevocationStatus.GOOD  # type: ignore[attr-defined]
    assert revocation.previous_serials == (second.serial_number, first.serial_number)  # type: ignore[attr-defined]
    fresh = ask(_authoritys_answers(authority), lambda client: client.revocation(first, issuer))
    assert fresh.status is RevocationStatus.REVOKED and fresh.previous_serials == ()  # type: ignore[attr-defined]


def test_malformed_previous_serials_make_the_answer_untrusted(
    authority: AuthorityService, card: tuple[x509.Certificate, x509.Certificate]
) -> None:
    certificate, issuer = card
    for why, value in malformed(certificate.serial_number).items():
        extension = x509.UnrecognizedExtension(PREVIOUS_SERIALS_OID, value)
        outcome = ask(
            ocsp_answer(authority, card, extension=extension),
            lambda client: client.status(certificate, issuer),
        )
        assert code(outcome) == "revocation_unavailable", why
        assert "malformed previous serials" in str(outcome.message), why  # type: ignore[attr-defined]
    # under a signature that does not verify, the extension is not even looked at
    forged = ocsp_answer(
        authority, card, key=card_key(3), extension=x509.UnrecognizedExtension(PREVIOUS_SERIALS_OID, b"\x05")
    )
    outcome = ask(forged, lambda client: client.status(certificate, issuer))
    assert code(outcome) == "revocation_unavailable" and "signature does not verify" in str(outcome.message)  # type: ignore[attr-defined]
    signed = ocsp_answer(
        authority, card, extension=x509.UnrecognizedExtension(PREVIOUS_SERIALS_OID, encode([77]))
    )
    revocation = ask(signed, lambda client: client.revocation(certificate, issuer))
    assert revocation.previous_serials == (77,)  # type: ignore[attr-defined]
