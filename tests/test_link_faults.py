"""The links between the stack's parts when connections break: the center's clients of the JPKI
authority and of a municipality, and a terminal's client of the center. Real server processes
over TLS on loopback (the dev stack), and a TCP proxy in front of one of them that resets the
connections it is told to (:mod:`support.tcp_proxy`), at connect or after the request reached the
server.

While the server is up, every question is answered and every order comes out once; when it is
gone, the client refuses with its typed error after a few quick tries, never waiting long.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import http.server
import itertools
import json
import logging
import secrets
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

import httpx
import pytest
import sqlalchemy as sa
import uvloop
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from center import authority_client, links
from center.authority_client import AuthorityClient
from center.bridge_messages import IssueAnswer
from center.config import CenterConfig
from center.errors import CenterError, DependencyUnavailable
from center.jpki_verify import RevocationStatus
from center.municipal import schema as municipal_schema
from center.municipal_client import MunicipalClient, MunicipalEndpoint, MunicipalityUnavailable
from center.signing import SEALED_CHARS
from center.store.engine import make_engine
from center.store.schema_versions import make_engine as make_municipal_engine
from center.store.tables import orders
from documents import b64url_encode
from support.tcp_proxy import PASSING, Fate, Plan, TcpProxy, repeating
from support.world import CODE, HOUSEHOLD, SEAL, World, authenticate, holder_proof, running_world

T = TypeVar("T")
LOOPS: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
    "asyncio": asyncio.new_event_loop,
    "uvloop": uvloop.new_event_loop,  # the center's, under uvicorn
}
NO_HANG = 30.0  # seconds: far beyond every client's budget, only to tell a refusal from a hang
# Every connection of the first wave meets a fault, in turn: one in four is reset as it opens,
# one in four after its request reached the server. The first wave is every connection a client
# opens at once, before any answer, so a question asked again always goes on a later connection.
FIRST_WAVE = repeating(
    Fate.RESET_AT_CONNECT, Fate.RESET_AFTER_REQUEST, Fate.PASS, Fate.PASS, until=authority_client.CONNECTIONS
)


@pytest.fixture(scope="module", params=["sqlite"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from running_world(request, tmp_path_factory, "link-faults", 200)


def run(loop: str, work: Coroutine[Any, Any, T]) -> T:
    """``work`` on a new event loop of that kind, its leftovers collected at once.

    uvloop closes the descriptor of a TLS connection reset during its handshake a second time,
    later (docs/decisions.md); once, in the whole suite, the number had become the authority's
    SQLite file of the next test ("disk I/O error"). Collecting the loop's leftovers here, before
    this process opens anything else, is meant to let that second close meet a free number.
    The tests that reset every connection as it opens run on asyncio's loop for the same reason.
    """
    try:
        with asyncio.Runner(loop_factory=LOOPS[loop]) as runner:
            return runner.run(work)
    finally:
        gc.collect()


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


# -- the center → the JPKI authority -------------------------------------------------------------


def cards(world: World, count: int) -> tuple[list[x509.Certificate], x509.Certificate, set[int]]:
    """``count`` cards of the town issued by the authority, every tenth revoked since: the cards,
    their issuing CA and the revoked serials."""
    with world.stack.authority() as authority:
        issued = [
            authority.issue_user_auth(
                world.keys[index % len(world.keys)].public_key(),
                birth_date=dt.date(1980, 4, 1),
                municipality=CODE,
            )
            for index in range(count)
        ]
        revoked = {card.serial_number for card in issued[::10]}
        for serial in revoked:
            authority.revoke(serial, "lost_card")
        return issued, authority.authority.issuer_of(issued[0]).certificate, revoked


def authority_through(world: World, proxy: TcpProxy, **options: Any) -> AuthorityClient:
    """The center's client of the authority, as the center makes it, but through ``proxy``."""
    token = CenterConfig.load(world.stack.center_dir).authority.token
    return AuthorityClient(proxy.url(), token, verify=str(world.stack.authority_dir / "tls.crt"), **options)


def proxy_to_authority(world: World, plan: Plan = PASSING) -> TcpProxy:
    return TcpProxy(port_of(world.stack.authority_url), plan)


@pytest.mark.parametrize("loop", sorted(LOOPS))
def test_every_lookup_is_answered_while_connections_break(world: World, loop: str) -> None:
    """240 questions at once (the status and the record of 120 cards) while a quarter of the
    connections are reset as they open and a quarter after the question reached the authority:
    each is answered, and rightly (revoked cards are revoked)."""
    certificates, issuer, revoked = cards(world, 120)

    async def lookups(client: AuthorityClient) -> tuple[list[RevocationStatus], list[Any]]:
        try:
            statuses = asyncio.gather(*(client.status(card, issuer) for card in certificates))
            records = asyncio.gather(*(client.record(card.serial_number) for card in certificates))
            return await statuses, await records
        finally:
            await client.close()

    with proxy_to_authority(world, FIRST_WAVE) as proxy:
        statuses, records = run(loop, lookups(authority_through(world, proxy)))
        outcomes = proxy.outcomes
    assert statuses == [
        RevocationStatus.REVOKED if card.serial_number in revoked else RevocationStatus.GOOD
        for card in certificates
    ]
    assert [(record.serial, record.municipality, record.status) for record in records] == [
        (card.serial_number, CODE, "revoked" if card.serial_number in revoked else "good")
        for card in certificates
    ]
    quarter = authority_client.CONNECTIONS // 4
    assert outcomes[Fate.RESET_AT_CONNECT] == outcomes[Fate.RESET_AFTER_REQUEST] == quarter


def test_an_authority_gone_is_refused_at_once_and_asked_again_when_back(world: World) -> None:
    """Every connection reset: ``authority_unavailable`` after a few tries, well within the
    budget; once the authority is back, the same client is answered."""
    certificates, _issuer, _revoked = cards(world, 1)
    serial = certificates[0].serial_number

    async def gone_then_back(proxy: TcpProxy, client: AuthorityClient) -> tuple[CenterError, float, str]:
        try:
            started = time.monotonic()
            with pytest.raises(DependencyUnavailable) as refused:
                await client.record(serial)
            waited = time.monotonic() - started
            proxy.up()
            return refused.value, waited, (await client.record(serial)).municipality
        finally:
            await client.close()

    with proxy_to_authority(world) as proxy:
        proxy.down()
        refusal, waited, municipality = run("asyncio", gone_then_back(proxy, authority_through(world, proxy)))
        assert refusal.code == "authority_unavailable"
        assert waited < NO_HANG
        assert proxy.outcomes[Fate.RESET_AT_CONNECT] == links.ATTEMPTS  # then no more
        assert municipality == CODE


def test_a_question_whose_connection_breaks_twice_is_refused(world: World) -> None:
    """Sent, and reset after it reached the authority; sent again on a new connection, and reset
    again: refused, not sent a third time."""
    certificates, issuer, _revoked = cards(world, 1)

    async def ask(client: AuthorityClient) -> CenterError:
        try:
            with pytest.raises(DependencyUnavailable) as refused:
                await client.status(certificates[0], issuer)  # OCSP: a POST, repeated by no library
            return refused.value
        finally:
            await client.close()

    with proxy_to_authority(world, repeating(Fate.RESET_AFTER_REQUEST)) as proxy:
        assert run("uvloop", ask(authority_through(world, proxy))).code == "authority_unavailable"
        assert proxy.outcomes[Fate.RESET_AFTER_REQUEST] == proxy.accepted == 2


def test_an_idle_connection_is_dropped_before_the_server_closes_it(world: World) -> None:
    """The root of the lost questions: the servers (uvicorn) close a connection idle for 5 s, and
    a client that kept it longer reused it just as it was closed. Every client keeps one for
    less (``center.links``), and the authority's client opens a new one after that time."""
    serial = cards(world, 1)[0][0].serial_number

    async def twice(client: AuthorityClient) -> None:
        try:
            await client.record(serial)
            await asyncio.sleep(links.KEEP_ALIVE + 0.5)
            await client.record(serial)
        finally:
            await client.close()

    with proxy_to_authority(world) as proxy:
        run("uvloop", twice(authority_through(world, proxy, max_age=dt.timedelta(0))))
        assert proxy.accepted == 2


# -- the center → a municipality -----------------------------------------------------------------


def issue_requests(world: World, count: int, terminal_id: str) -> list[dict[str, Any]]:
    """What the center asks the municipality for ``count`` residents' orders at one terminal."""
    terminal = world.stack.enroll(terminal_id)
    certificate = b64url_encode(terminal.certificate.public_bytes(Encoding.DER))
    requests = []
    for _ in range(count):
        resident, session_id = world.resident(), str(uuid.uuid4())
        requests.append(
            {
                "order_id": str(uuid.uuid4()),
                "session_id": session_id,
                "terminal_id": terminal_id,
                "store": "テスト店",
                "printer": 1,
                "holder_proof": holder_proof(world, resident, session_id, terminal_id),
                "terminal_certificate": certificate,
                "items": [SEAL, HOUSEHOLD],
            }
        )
    return requests


def municipality_through(world: World, url: str) -> MunicipalClient:
    """The center's client of the town, as the center makes it, but to ``url``."""
    town = world.stack.towns[CODE]
    return MunicipalClient(
        CenterConfig.load(world.stack.center_dir).bridge_key(),
        {CODE: MunicipalEndpoint(url, verify=str(town.directory / "tls.crt"))},
    )


def municipal_copies(world: World, order_ids: list[str]) -> dict[str, list[str]]:
    """The issue numbers the municipality's history holds for each order."""
    history = municipal_schema.issuance_history.c
    engine = make_municipal_engine(world.stack.towns[CODE].database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.select(history.order_id, history.issue_number).where(history.order_id.in_(order_ids))
            ).all()
    finally:
        engine.dispose()
    copies: dict[str, list[str]] = {order_id: [] for order_id in order_ids}
    for row in rows:
        copies[row.order_id].append(row.issue_number)
    return {order_id: sorted(numbers) for order_id, numbers in copies.items()}


def received(world: World) -> set[str]:
    """The nonces of the center's requests the municipality received (each request once)."""
    engine = make_municipal_engine(world.stack.towns[CODE].database_url)
    try:
        with engine.connect() as connection:
            return set(connection.execute(sa.select(municipal_schema.center_nonces.c.nonce)).scalars())
    finally:
        engine.dispose()


def test_orders_issued_while_connections_break_are_issued_once(world: World) -> None:
    """30 orders at once while the first connections break in turn, a third as they open and a
    third after the request reached the municipality (its answer lost on the way back): each
    order is answered, the municipality received those requests twice and issued once, asking
    again gives the very same copies, and its history holds each copy once."""
    requests = issue_requests(world, 30, "T-0401")
    town = world.stack.towns[CODE]
    plan = repeating(Fate.RESET_AT_CONNECT, Fate.RESET_AFTER_REQUEST, Fate.PASS, until=len(requests))
    received_before = received(world)

    async def issue_all(client: MunicipalClient) -> list[IssueAnswer]:
        try:
            return list(await asyncio.gather(*(client.issue(CODE, request) for request in requests)))
        finally:
            await client.close()

    with TcpProxy(port_of(town.url), plan) as proxy:
        answers = run("uvloop", issue_all(municipality_through(world, proxy.url())))
        lost_answers = proxy.outcomes[Fate.RESET_AFTER_REQUEST]
        assert proxy.outcomes[Fate.RESET_AT_CONNECT] == lost_answers == len(requests) // 3
    again = run("uvloop", issue_all(municipality_through(world, town.url)))
    assert again == answers  # byte for byte, the same issue numbers

    numbers = {answer.order_id: sorted(c.issue_number for c in answer.copies) for answer in answers}
    assert [answer.order_id for answer in answers] == [request["order_id"] for request in requests]
    assert municipal_copies(world, list(numbers)) == numbers
    assert all(len(copies) == 2 for copies in numbers.values())
    # each order asked for once more when its answer was lost, and once more above
    assert len(received(world) - received_before) == 2 * len(requests) + lost_answers


def test_a_municipality_gone_is_unavailable_at_once(world: World) -> None:
    """Every connection reset: ``municipality_unavailable`` after a few tries, and nothing issued."""
    requests = issue_requests(world, 1, "T-0402")

    async def issue(client: MunicipalClient) -> tuple[CenterError, float]:
        try:
            started = time.monotonic()
            with pytest.raises(MunicipalityUnavailable) as refused:
                await client.issue(CODE, requests[0])
            return refused.value, time.monotonic() - started
        finally:
            await client.close()

    with TcpProxy(port_of(world.stack.towns[CODE].url)) as proxy:
        proxy.down()
        refusal, waited = run("asyncio", issue(municipality_through(world, proxy.url())))
        assert refusal.code == "municipality_unavailable"
        assert waited < NO_HANG
        assert proxy.accepted == links.ATTEMPTS
    assert municipal_copies(world, [requests[0]["order_id"]]) == {requests[0]["order_id"]: []}


def test_a_proof_the_municipality_does_not_accept_is_its_failure(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """The town answers a card's proof moved into another session ``403 holder_not_proven``; the
    center's client reads it, for an order and an offer alike, as ``municipality_error`` (the
    order is voided, nothing relayed), and the town issued nothing."""
    (request,) = issue_requests(world, 1, "T-0409")
    request = {**request, "session_id": str(uuid.uuid4())}  # the proof is of another session
    offer = {
        key: request[key] for key in ("session_id", "terminal_id", "holder_proof", "terminal_certificate")
    }

    async def ask(client: MunicipalClient) -> list[str]:
        codes = []
        try:
            for asking in (client.issue, client.offer):
                with pytest.raises(MunicipalityUnavailable) as refused:
                    await asking(CODE, request if asking == client.issue else offer)
                codes.append(refused.value.code)
            return codes
        finally:
            await client.close()

    with caplog.at_level(logging.WARNING, logger="center.municipal_client"):
        codes = run("asyncio", ask(municipality_through(world, world.stack.towns[CODE].url)))
    assert codes == ["municipality_error", "municipality_error"]
    assert caplog.text.count(f"municipality {CODE} answered 403 holder_not_proven") == 2
    assert municipal_copies(world, [request["order_id"]]) == {request["order_id"]: []}


_LIARS_TERMINALS = itertools.count(410)


class LyingMunicipality:
    """A server with the town's TLS identity on its own port that answers every request 200 with
    ``body``: a municipality that lies (or is broken), seen by the center's real client."""

    def __init__(self, world: World, body: bytes) -> None:
        town = world.stack.towns[CODE].directory
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(town / "tls.crt", town / "tls.key")

        class Answer(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", 0)))
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Answer)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LyingMunicipality:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize(
    "answer",
    [
        {"order_id": "o", "fee": 200},  # no copies
        {"order_id": "o", "fee": 200, "copies": "two"},
        {"order_id": "o", "fee": 200, "copies": [{"item": 0}]},
        "sealed",  # a copy whose sealed form is not unpadded base64url
        "long",  # a copy longer than any sealed copy may be
    ],
)
def test_an_issuance_answer_that_is_not_one_is_the_municipality_s_failure(
    world: World, answer: object
) -> None:
    """A municipality answering 200 with something that is not an issuance: ``municipality_error``
    (the center voids the order and relays nothing of it), never a crash of the center."""
    copy = {"item": 0, "copy": 1, "issue_number": "n", "pages": 1, "fee": 200}
    copy |= {"content_hash": "h", "code_hash": "c", "sealed": "c2VhbGVk"}
    if answer == "sealed":
        answer = {"order_id": "o", "fee": 200, "copies": [{**copy, "sealed": "not base64url!"}]}
    elif answer == "long":
        answer = {"order_id": "o", "fee": 200, "copies": [{**copy, "sealed": "A" * (SEALED_CHARS + 4)}]}
    assert IssueAnswer.from_json({"order_id": "o", "fee": 200, "copies": [copy]})  # the shape is right
    requests = issue_requests(world, 1, f"T-{next(_LIARS_TERMINALS):04d}")

    async def issue(client: MunicipalClient) -> CenterError:
        try:
            with pytest.raises(MunicipalityUnavailable) as refused:
                await client.issue(CODE, requests[0])
            return refused.value
        finally:
            await client.close()

    with LyingMunicipality(world, json.dumps(answer).encode()) as liar:
        refusal = run("asyncio", issue(municipality_through(world, liar.url)))
    assert refusal.code == "municipality_error"


# -- a terminal → the center ---------------------------------------------------------------------


def center_orders(world: World, terminal_id: str) -> dict[str, str]:
    """The center's orders of the terminal and their states."""
    engine = make_engine(CenterConfig.load(world.stack.center_dir).database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.select(orders.c.id, orders.c.state).where(orders.c.terminal_id == terminal_id)
            ).all()
    finally:
        engine.dispose()
    return {row.id: row.state for row in rows}


def test_a_kiosk_s_orders_come_out_once_while_its_connections_break(world: World) -> None:
    """A terminal's orders, one after another, each step meeting two broken connections: the
    first reset as it opens, the second after the request reached the center; the third holds.
    Every order is placed once, printed and settled, and its copies are issued once. (The card's
    proof goes the direct way: it is not sent twice, see below.)"""
    terminal, direct = world.terminal("T-0403")
    plan = repeating(Fate.RESET_AT_CONNECT, Fate.RESET_AFTER_REQUEST, Fate.PASS)
    placed: dict[str, list[str]] = {}
    count = 6
    with TcpProxy(port_of(world.stack.center_url), plan) as proxy:
        kiosk = world.stack.client(terminal, url=proxy.url())
        try:
            for _ in range(count):
                session_id = authenticate(world, direct, world.resident())
                order = kiosk.place_order(session_id, secrets.token_hex(8), [SEAL])
                numbers = [copy.issue_number for copy in order.copies]
                assert kiosk.printing(order.order_id).state == "printing"
                assert kiosk.printed(order.order_id, numbers).state == "printed"
                assert kiosk.settle(order.order_id, order.fee).state == "settled"
                placed[order.order_id] = numbers
        finally:
            kiosk.close()
            direct.close()
        assert proxy.outcomes == dict.fromkeys(Fate, 4 * count)  # each of 4 steps: three connections
    assert center_orders(world, "T-0403") == dict.fromkeys(placed, "settled")
    assert municipal_copies(world, list(placed)) == placed


def test_a_step_not_safe_to_repeat_is_sent_once(world: World) -> None:
    """Opening a session is tried again when the connection could not be opened (nothing was
    sent), but not when it broke after the request reached the center (each request opens a
    session): the error is the kiosk's to handle, and the request was sent once."""
    terminal, direct = world.terminal("T-0404")
    world.stack.wait_until_open(direct)
    direct.close()
    with TcpProxy(port_of(world.stack.center_url), repeating(Fate.RESET_AT_CONNECT, Fate.PASS)) as proxy:
        kiosk = world.stack.client(terminal, url=proxy.url())
        try:
            assert kiosk.open_session().session_id
        finally:
            kiosk.close()
        assert proxy.accepted == 2
    with TcpProxy(port_of(world.stack.center_url), repeating(Fate.RESET_AFTER_REQUEST)) as proxy:
        kiosk = world.stack.client(terminal, url=proxy.url())
        try:
            with pytest.raises(httpx.TransportError):
                kiosk.open_session()
        finally:
            kiosk.close()
        assert proxy.accepted == proxy.outcomes[Fate.RESET_AFTER_REQUEST] == 1


def test_a_center_gone_is_an_error_at_once(world: World) -> None:
    """Every connection reset: the kiosk gets the connection error after a few tries, as before."""
    terminal, direct = world.terminal("T-0405")
    direct.close()
    with TcpProxy(port_of(world.stack.center_url)) as proxy:
        proxy.down()
        kiosk = world.stack.client(terminal, url=proxy.url())
        started = time.monotonic()
        try:
            with pytest.raises(httpx.ConnectError):
                kiosk.order(str(uuid.uuid4()))
        finally:
            kiosk.close()
        assert time.monotonic() - started < NO_HANG
        assert proxy.accepted == links.ATTEMPTS
