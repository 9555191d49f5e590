"""The registered domicile (本籍地の利用登録) and the issuance record (交付履歴) end to end: real
authority, center, residence town and domicile municipality processes over TLS (the dev stack,
the domicile a registers-only municipality keeping the registers of the town's residents whose 本籍
is there), and the kiosk's real workflow on the headless screen, driven by touches, with emulated
My Number Cards whose signing certificates state their holders as the registers do.

One stack for the module; the tests run in the file's order and follow the same residents:
A applies and is approved by the business-day rule (the staff's ``registrations list`` run as a
real process with its clock at the rule's instant, five business days on), B is approved at once
by the staff, C types a wrong 筆頭者 (refused at once), applies again and is denied by the staff
with a reason; A and B order a 戸籍 from the domicile and a certificate from the residence, paid
with coins, the books reconciled; each sees exactly their own issuances at the other's store,
printed free, and nothing of the record stays at the kiosk or the center; A's renewed card keeps
the registration; A's revoked card suspends it (``check-revocations`` as a process).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import logging
import os
import subprocess
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import libfaketime  # type: ignore[import-untyped]
import pytest
import sqlalchemy as sa
from cryptography import x509

from center.audit import subject_of
from center.authority.service import AuthorityService
from center.config import CenterConfig
from center.enrolment import EnrolledTerminal
from center.municipal import service as municipal_service
from center.municipal.business_days import approval_instant
from center.municipal.domicile_match import DenialReason
from center.municipal.stored_settings import load_settings, store_settings
from center.store.engine import make_engine as make_center_engine
from center.store.schema_versions import make_engine
from center.store.tables import registration_routes
from devtools.kiosk.residents import DomicileHolder, domicile_card_for
from devtools.stack import DevStack
from documents import JST, IssueNumber, OpenedDocument, TrustedKey, TrustList
from hardware.cardsim.filesystem import POLICIES
from hardware.cardsim.personalize import renew_card
from hardware.cardsim.state import CardStore
from kiosk.errors import Refused
from kiosk.messages import Catalog
from kiosk.ui.words import registration_reason
from kiosk.workflow.steps import Step
from koufu.cards import AuthorityIssuer
from support.backend_stack import backend_stack
from support.canaries import holds
from support.kiosk_driver import Card, Kiosk, kiosk
from support.world import CODE, World

DOMICILE = "271276"  # 大阪市北区: the registered domicile of the town's residents whose 本籍 is in 大阪府
TOWNS = {CODE: ("千代田区", 60)}
SIGN_PASSWORD = "ABC123"  # the emulated cards'
WRONG_HEAD = "試験　別人"
FAMILY = "family_register"
STORES = {"T-E001": "駅前店", "T-E002": "大通り店"}


@dataclasses.dataclass
class Story:
    """What the tests of the module did, for the ones after them."""

    holders: dict[str, DomicileHolder] = dataclasses.field(default_factory=dict)
    issued: dict[str, list[str]] = dataclasses.field(default_factory=dict)  # holder: issue numbers
    terminals: dict[str, EnrolledTerminal] = dataclasses.field(default_factory=dict)
    kiosk_files: list[Path] = dataclasses.field(default_factory=list)  # the kiosks' own directories
    printed: list[str] = dataclasses.field(default_factory=list)  # the family registers' contents


STORY = Story()
T = TypeVar("T")


@pytest.fixture(scope="module", params=["sqlite"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with backend_stack(
        request, tmp_path_factory, "domicile-e2e", towns=TOWNS, domiciles={DOMICILE: ("大阪市北区", CODE)}
    ) as stack:
        at_any_hour(stack)
        published = [
            TrustedKey.from_json(json.loads((town.directory / municipal_service.PUBLIC_KEY_FILE).read_text()))
            for town in stack.towns.values()
        ]
        for terminal_id, store in STORES.items():
            STORY.terminals[terminal_id] = stack.enroll(terminal_id, store=store)
        yield World(stack, stack.towns[CODE], TrustList(published), [], set())


class Lines(logging.Handler):
    """Every line logged in this process (the kiosks'), at DEBUG."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines += [record.getMessage(), repr(record.args)]


@pytest.fixture(scope="module", autouse=True)
def logged() -> Iterator[list[str]]:
    """What the module's kiosks logged, for the canary test (the root logger at DEBUG meanwhile)."""
    lines, root = Lines(), logging.getLogger()
    level = root.level
    root.addHandler(lines)
    root.setLevel(logging.DEBUG)
    try:
        yield lines.lines
    finally:
        root.removeHandler(lines)
        root.setLevel(level)


def at_any_hour(stack: DevStack) -> None:
    """The domicile issues family registers at any hour (the tests run at any time of day)."""
    engine = make_engine(stack.towns[DOMICILE].database_url)
    try:
        with engine.begin() as connection:
            settings = load_settings(connection)
            offers = {kind: dataclasses.replace(offer, hours=None) for kind, offer in settings.offers.items()}
            store_settings(connection, dataclasses.replace(settings, offers=offers), dt.datetime.now(dt.UTC))
    finally:
        engine.dispose()


def holder(world: World, directory: Path, who: str) -> DomicileHolder:
    """``who``'s card (made once): a resident of the town whose 本籍 is at the domicile."""
    if who not in STORY.holders:
        STORY.holders[who] = domicile_card_for(world.stack, world.town, directory, world.used)
    return STORY.holders[who]


def card(who: DomicileHolder) -> Card:
    return Card(who.card, who.resident_id, who.name)


def staff(world: World, *arguments: str, at: dt.datetime | None = None) -> str:
    """``koufu municipal registrations ARGUMENTS`` of the domicile, run as its staff run it (with
    the clock of the process starting at ``at``, if given); what it printed."""
    environment = dict(os.environ)
    if at is not None:
        _reload, additions = libfaketime.get_reload_information()
        preload = [additions["LD_PRELOAD"], *filter(None, [os.environ.get("LD_PRELOAD")])]
        stamp = at.astimezone(dt.UTC).strftime("@%Y-%m-%d %H:%M:%S")
        environment.update(additions, LD_PRELOAD=":".join(preload), FAKETIME=stamp, TZ="UTC")
    done = subprocess.run(
        world.stack.registrations_command(DOMICILE, *arguments),
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def listed(world: World, *, at: dt.datetime | None = None) -> list[dict[str, str]]:
    """The staff's list of registrations (``list``), one dict a line."""
    lines = staff(world, "list", at=at).splitlines()
    columns = lines[0].split("\t")
    return [dict(zip(columns, line.split("\t"), strict=True)) for line in lines[1:]]


async def visits(*sessions: Awaitable[Step]) -> list[Step]:
    """The sessions one after the other on a kiosk (all in one event loop: its screen's); how each
    ended."""
    return [await session for session in sessions]


async def at_the_office(call: Callable[..., T], *arguments: Any, **options: Any) -> T:
    """What the staff or the authority do meanwhile, away from the kiosk's loop."""
    return await asyncio.to_thread(call, *arguments, **options)


# -- the resident's gestures ----------------------------------------------------------------------


async def through_the_pin(k: Kiosk, who: DomicileHolder, whose: str) -> None:
    await k.start()
    k.place(card(who))
    await k.screen.wait_for(Step.WHOSE)
    k.screen.press("whose", whose)
    await k.enter_pin("1234")
    await k.screen.wait_for(Step.TAKE_CARD)


async def registration(k: Kiosk, who: DomicileHolder) -> dict[str, Any]:
    """From the start screen to the registration's status (the card taken back)."""
    await through_the_pin(k, who, "domicile")
    k.take_card()
    return await k.screen.wait_for(Step.REGISTRATION, lambda v: "status" in v)


async def finish(k: Kiosk) -> None:
    """The resident has seen what they came for: done, the card taken if it is still there."""
    k.screen.press("finish")
    await k.screen.wait_for(Step.DONE)
    if k.reader.card_present():
        await k.screen.wait_for(Step.DONE, lambda v: v.get("remind", 0) >= 1)
        k.take_card()
    k.screen.press("ok")


async def application(k: Kiosk, who: DomicileHolder, head: str, *, again: bool = False) -> dict[str, Any]:
    """From the registration screen (none, or denied), an application: the prefecture and the
    municipality chosen, the 本籍 and the 筆頭者 typed, confirmed, signed with the card placed again
    and its signing password; the registration screen's answer."""
    s = k.screen
    s.press("apply")
    view = await s.wait_for(Step.PREFECTURE, lambda v: "prefectures" in v)
    assert {"code": "27", "name": "大阪府"} in view["prefectures"]
    s.press("prefecture", "27")
    view = await s.wait_for(Step.MUNICIPALITY, lambda v: "municipalities" in v)
    assert [m["code"] for m in view["municipalities"]] == [DOMICILE]
    s.press("municipality", DOMICILE)
    await s.wait_for(Step.DOMICILE_ENTRY, lambda v: "value" in v)
    s.press("typing")
    s.press("next", who.domicile)
    await s.wait_for(Step.HEAD_ENTRY, lambda v: "value" in v)
    s.press("next", head)
    view = await s.wait_for(Step.APPLICATION, lambda v: "head" in v)
    assert (view["domicile"], view["head"]) == (who.domicile, head)
    assert view["municipality"]["name"] == "大阪市北区"
    s.press("next")
    if not again:  # else the card placed for the first application serves again
        await s.wait_for(Step.SIGNING, lambda v: v.get("card") == "place")
        k.place(card(who))
    await s.wait_for(Step.SIGNING, lambda v: v.get("card") == "ready" and v.get("entered") == 0)
    for char in SIGN_PASSWORD:
        s.press("char", char)
    await s.wait_for(Step.SIGNING, lambda v: v.get("entered") == len(SIGN_PASSWORD))
    s.press("ok")
    return await s.wait_for(Step.REGISTRATION, lambda v: v.get("applied") is True)


async def order(k: Kiosk, kind: str, *, options: bool) -> list[OpenedDocument]:
    """From the certificate list: one copy of ``kind``, paid with coins, printed and taken."""
    s = k.screen
    view = await s.wait_for(Step.CERTIFICATE_TYPE, lambda v: "certificates" in v)
    offered = {c["type"]: c for c in view["certificates"]}
    assert offered[kind]["available"], offered[kind]
    s.press("choose", kind)
    if options:
        await s.wait_for(Step.OPTIONS)
        s.press("next")
    await s.wait_for(Step.COPIES)
    s.press("next")
    confirm = await s.wait_for(Step.CONFIRM)
    s.press("next")
    await k.pay(confirm["total"])
    await s.wait_for(Step.TAKE_DOCUMENTS)
    printed = k.printer.take()
    await s.wait_for(Step.DONE)
    s.press("ok")
    return printed


def numbers(printed: list[OpenedDocument]) -> list[str]:
    """The copies' issue numbers (the family registers' contents kept for the canary test)."""
    for copy in printed:
        if copy.document.certificate_type == FAMILY:
            STORY.printed.append(json.dumps(copy.document.content, ensure_ascii=False))
    return [copy.document.issue_number.text for copy in printed]


def words(view: dict[str, Any]) -> str:
    """What the registration screen says of a denial, in Japanese (the screen's own choice of words)."""
    return registration_reason(Catalog.load("ja"), view["reason"], view["message"])


# -- the registration -------------------------------------------------------------------------------


def test_applied_at_the_kiosk_pending_then_approved_by_the_business_day_rule_and_ordered(
    world: World, tmp_path: Path
) -> None:
    a = holder(world, tmp_path, "A")
    today = dt.datetime.now(JST).date()
    expected: list[str] = []  # the expected date the kiosk said on the later visit
    STORY.kiosk_files.append(tmp_path)
    with kiosk(world, "", tmp_path, enrolled=STORY.terminals["T-E001"]) as k:

        async def apply() -> None:
            view = await registration(k, a)
            assert view["status"] == "none" and view["can_apply"]
            view = await application(k, a, a.head)
            assert view["status"] == "pending" and not view["can_apply"]
            assert view["municipality"]["code"] == DOMICILE
            assert view["applied_at"] in (today.isoformat(), (today + dt.timedelta(days=1)).isoformat())
            assert view["approves_at"] > view["applied_at"]
            await finish(k)

        async def later() -> None:
            view = await registration(k, a)
            assert view["status"] == "pending" and not view["applied"]
            expected.append(view["approves_at"])
            await finish(k)

        async def approved() -> None:
            await through_the_pin(k, a, "domicile")
            k.take_card()
            STORY.issued["A"] = numbers(await order(k, FAMILY, options=True))

        async def at_home() -> None:
            await through_the_pin(k, a, "residence")
            k.take_card()
            STORY.issued["A"] += numbers(await order(k, "seal_registration", options=False))

        async def story() -> None:
            assert await visits(k.session(apply()), k.session(later())) == [Step.DONE, Step.DONE]
            [pending] = await at_the_office(listed, world)
            assert pending["status"] == "pending" and pending["decided_by"] == "-"
            due = dt.datetime.strptime(pending["approval"], "%Y-%m-%d %H:%M").replace(tzinfo=JST)
            applied = dt.datetime.strptime(pending["applied"], "%Y-%m-%d %H:%M").replace(tzinfo=JST)
            assert due == approval_instant(applied, 5)  # the fifth business day after (the default)
            assert expected == [due.date().isoformat()]  # the date the kiosk said
            [before] = await at_the_office(listed, world, at=due - dt.timedelta(minutes=1))
            assert before["status"] == "pending"
            [rule] = await at_the_office(listed, world, at=due + dt.timedelta(minutes=1))  # first reader
            assert (rule["status"], rule["decided_by"], rule["approval"]) == (
                "approved",
                "rule",
                pending["approval"],
            )
            assert await visits(k.session(approved()), k.session(at_home())) == [Step.DONE, Step.DONE]

        asyncio.run(story())
    assert [IssueNumber.parse(n).municipality for n in STORY.issued["A"]] == [DOMICILE, CODE]


def test_approved_at_once_by_the_staff_and_a_family_register_ordered_at_another_store(
    world: World, tmp_path: Path
) -> None:
    b = holder(world, tmp_path, "B")
    STORY.kiosk_files.append(tmp_path)
    with kiosk(world, "", tmp_path, enrolled=STORY.terminals["T-E002"]) as k:

        async def apply() -> None:
            await registration(k, b)
            view = await application(k, b, b.head)
            assert view["status"] == "pending"
            await finish(k)

        async def approved() -> None:
            await through_the_pin(k, b, "domicile")
            k.take_card()
            STORY.issued["B"] = numbers(await order(k, FAMILY, options=True))

        async def at_home() -> None:
            await through_the_pin(k, b, "residence")
            k.take_card()
            STORY.issued["B"] += numbers(await order(k, "seal_registration", options=False))

        async def story() -> None:
            assert await k.session(apply()) is Step.DONE
            [pending] = [r for r in await at_the_office(listed, world) if r["status"] == "pending"]
            said = await at_the_office(staff, world, "approve", pending["id"], "--by", "戸籍係　試験")
            assert said.startswith(f"{pending['id']} approved")
            assert await visits(k.session(approved()), k.session(at_home())) == [Step.DONE, Step.DONE]

        asyncio.run(story())
    assert [IssueNumber.parse(n).municipality for n in STORY.issued["B"]] == [DOMICILE, CODE]


def test_a_wrong_head_is_refused_at_once_and_a_staff_denial_said_in_words(
    world: World, tmp_path: Path
) -> None:
    c = holder(world, tmp_path, "C")
    STORY.kiosk_files.append(tmp_path)
    with kiosk(world, "T-E003", tmp_path) as k:

        async def apply() -> None:
            await registration(k, c)
            view = await application(k, c, WRONG_HEAD)
            assert view["status"] == "denied" and view["reason"] == "not_matched" and view["can_apply"]
            assert words(view) == DenialReason.NOT_MATCHED.message_ja
            view = await application(k, c, c.head, again=True)
            assert view["status"] == "pending"
            await finish(k)

        async def later() -> None:
            view = await registration(k, c)
            assert view["status"] == "denied" and view["reason"] == "duplicate" and view["can_apply"]
            assert words(view) == DenialReason.DUPLICATE.message_ja
            await finish(k)

        async def story() -> None:
            assert await k.session(apply()) is Step.DONE
            [pending] = [r for r in await at_the_office(listed, world) if r["status"] == "pending"]
            said = await at_the_office(
                staff, world, "deny", pending["id"], "--reason", "duplicate", "--by", "戸籍係　試験"
            )
            assert said.startswith(f"{pending['id']} denied")
            assert await k.session(later()) is Step.DONE

        asyncio.run(story())
    reasons = sorted(r["reason"] for r in listed(world) if r["status"] == "denied")
    assert reasons == ["duplicate", "not_matched"]


# -- the issuance record ----------------------------------------------------------------------------


def test_each_resident_sees_exactly_their_own_issuances_and_nothing_of_them_stays(
    world: World, tmp_path: Path, logged: list[str]
) -> None:
    """A at B's store, B at A's: each record holds that card's issuances from both municipalities,
    at the store they were made, never the other's; printed free on plain paper. Afterwards
    nothing of the records nor of the registers' copies (issue numbers, stores, the registers'
    names, 本籍 and 筆頭者) is in any of the module's kiosks' files or logs, nor anything of the
    registers in the center's database (its orders keep their copies' issue numbers, by design)."""
    seen: dict[str, dict[str, Any]] = {}
    elsewhere = {"A": "T-E002", "B": "T-E001"}
    stores = {"A": STORES["T-E001"], "B": STORES["T-E002"]}
    for who, terminal_id in elsewhere.items():
        directory = tmp_path / who
        directory.mkdir()
        STORY.kiosk_files.append(directory)
        with kiosk(world, "", directory, enrolled=STORY.terminals[terminal_id]) as k:

            async def look(k: Kiosk = k, who: str = who) -> None:
                await through_the_pin(k, STORY.holders[who], "residence")
                k.take_card()
                await k.screen.wait_for(Step.CERTIFICATE_TYPE, lambda v: "certificates" in v)
                k.screen.press("record")
                seen[who] = await k.screen.wait_for(Step.ISSUANCE_RECORD, lambda v: "rows" in v)
                k.screen.press("print")
                await k.screen.wait_for(Step.ISSUANCE_RECORD, lambda v: bool(v.get("printed")))
                assert k.printer.plain_tray and not k.printer.tray  # plain pages, no certificate
                k.printer.take()
                await k.screen.wait_for(Step.CERTIFICATE_TYPE)
                k.screen.press("cancel")
                await k.screen.wait_for(Step.CANCELLED)
                k.screen.press("ok")

            assert asyncio.run(k.session(look())) is Step.CANCELLED
            assert k.paid_in == 0 and k.coins().kept == 0  # free of charge
            assert repr(k.screen.views).count("issue_numbers") == 0 and not k.workflow.context.personal
        view = seen[who]
        shown = [n for row in view["rows"] for n in row["issue_numbers"]]
        assert sorted(shown) == sorted(STORY.issued[who]) and view["unavailable"] == []
        assert {row["store"] for row in view["rows"]} == {stores[who]}
        assert {row["municipality"]["code"] for row in view["rows"]} == {CODE, DOMICILE}
        assert {row["certificate_type"] for row in view["rows"]} == {FAMILY, "seal_registration"}

    holders = [STORY.holders[who] for who in ("A", "B")]
    registers = [text for h in holders for text in (h.name, h.head, h.domicile)]
    # the canaries were really at the kiosk: on its screen, on the copies it printed
    assert all(any(holds(text, c) for text in STORY.printed) for c in registers)
    issued = [n for who in ("A", "B") for n in STORY.issued[who]]
    assert all(holds(repr(seen), c) for c in [*issued, *stores.values()])
    files = [
        (path.name, path.read_bytes().decode("utf-8", "replace"))
        for directory in STORY.kiosk_files
        for path in directory.rglob("*")
        if path.is_file() and not path.name.startswith("card-")  # the resident's card is theirs
    ]
    assert len(STORY.kiosk_files) == 5 and all(d.is_dir() for d in STORY.kiosk_files)
    texts = [*files, *(("log", line) for line in logged)]
    left = [f"{c} in {where}" for where, text in texts for c in [*issued, *registers] if holds(text, c)]
    assert left == []
    assert center_keeps(world.stack, registers) == []
    assert {table for table, _ in center_keeps(world.stack, issued)} == {"order_copies"}


def center_keeps(stack: DevStack, canaries: list[str]) -> list[tuple[str, str]]:
    """The tables of the center's database where a canary is found, and the canary."""
    engine = make_center_engine(CenterConfig.load(stack.center_dir).database_url)
    found = []
    try:
        with engine.connect() as connection:
            metadata = sa.MetaData()
            metadata.reflect(bind=connection)
            for table in metadata.sorted_tables:
                for row in connection.execute(sa.select(table)):
                    text = repr(tuple(row))
                    found += [(table.name, c) for c in canaries if holds(text, c)]
    finally:
        engine.dispose()
    return found


# -- the card renewed, then revoked -----------------------------------------------------------------


def renewed(world: World, who: DomicileHolder) -> int:
    """更新 of the card's user-authentication certificate at the authority (the counter's): a new
    key and serial naming the old one; the residence links the new one. The new serial."""
    path, old = Path(who.card), serial_of(who)
    with AuthorityService.open(world.stack.authority_dir, db_url=world.stack.authority_db) as authority:
        new = renew_card(path, AuthorityIssuer(authority), old).serial_number
    world.town.link_card(new, who.resident_id)
    return new


def test_a_renewed_card_keeps_the_registration(world: World, tmp_path: Path) -> None:
    """The renewed card (new serial) orders from the domicile again: the center follows the
    authority's link to the old serial and routes the new one there too."""
    a = STORY.holders["A"]
    old = serial_of(a)
    serial = renewed(world, a)
    assert routes(world, old) == [DOMICILE] and routes(world, serial) == []
    with kiosk(world, "T-E004", tmp_path) as k:

        async def again() -> None:
            await through_the_pin(k, a, "domicile")
            k.take_card()
            STORY.issued["A"] += numbers(await order(k, FAMILY, options=True))

        assert asyncio.run(k.session(again())) is Step.DONE
    assert IssueNumber.parse(STORY.issued["A"][-1]).municipality == DOMICILE
    assert routes(world, serial) == [DOMICILE]


def serial_of(who: DomicileHolder) -> int:
    """The serial of the user-authentication certificate on ``who``'s card now."""
    return x509.load_der_x509_certificate(CardStore(who.card).load(POLICIES).auth_cert).serial_number


def routes(world: World, serial: int) -> list[str]:
    """Where the center routes the domicile orders of the card ``serial`` (its only record of it)."""
    config = CenterConfig.load(world.stack.center_dir)
    engine = make_center_engine(config.database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.select(registration_routes.c.municipality).where(
                    registration_routes.c.subject == subject_of(serial, config.audit_secret)
                )
            )
            return [row.municipality for row in rows]
    finally:
        engine.dispose()


def revoke(world: World, serial: int) -> None:
    """失効 at the authority: the card was reported lost."""
    with AuthorityService.open(world.stack.authority_dir, db_url=world.stack.authority_db) as authority:
        authority.revoke(serial, "lost_card")


def test_a_revoked_card_suspends_the_registration(world: World, tmp_path: Path) -> None:
    """The card's certificate revoked while its holder is at the kiosk (their PIN proved it a
    moment before: once the center knows, a revoked card opens no session at all), and the
    domicile's scheduled ``check-revocations`` runs: the registration is suspended and said so,
    and the domicile offers nothing to order."""
    a = STORY.holders["A"]
    serial = serial_of(a)
    checked: list[str] = []
    with kiosk(world, "T-E005", tmp_path) as k:

        async def revoked() -> None:
            await through_the_pin(k, a, "domicile")
            await at_the_office(revoke, world, serial)
            checked.append(await at_the_office(staff, world, "check-revocations"))
            k.take_card()
            view = await k.screen.wait_for(Step.REGISTRATION, lambda v: "status" in v)
            assert view["status"] == "suspended" and not view["can_apply"]
            said = Catalog.load("ja").text(
                "registration.suspended", municipality=view["municipality"]["name"]
            )
            assert said.startswith("大阪市北区への利用登録は停止されています")
            with pytest.raises(Refused) as refused:  # the session's link asks for the domicile's offer
                await at_the_office(k.sessions[-1].offer, "domicile")
            assert refused.value.code == "registration_suspended"
            k.screen.press("apply")  # nothing to apply for, nothing to order
            await finish(k)

        assert asyncio.run(k.session(revoked())) is Step.DONE
    assert checked == ["checked 2, suspended 1, unknown 0\n"]
    assert [r["status"] for r in listed(world) if r["decided_by"] == "rule" and r["status"] != "denied"] == [
        "suspended"
    ]
