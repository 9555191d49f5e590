"""Orders at the center (注文): from a terminal's request to the municipality's sealed copies,
to printed and paid, or voided and refunded (:mod:`center.order_states`).

Every terminal call is idempotent. Placing an order carries the terminal's idempotency key: the
same key with the same request is the same order (its copies again: the municipality answers a
repeated request with the very same copies), with another request a conflict. The other calls
move the order along its table; a repeated one changes nothing.

Nothing is half-done. The municipality's refusal voids the order at once (nothing was issued).
A municipality that cannot be reached or fails voids it too, and the municipality is told to
void whatever it may have issued (``void_pending``, retried by the housekeeping until it
answers). An order still open at its deadline is voided the same way. A printed order is never
voided; it is settled when the terminal takes the coins from escrow, and only then is the fee
split in the ledger (料金の精算): the municipality's fee less the per-copy shares of the center
and the store. A final order keeps nothing that identifies its holder (:mod:`center.retention`).

The state is in the database, never in a process: any center process can serve any call, and
two calls racing for one order are decided by conditional updates (``WHERE state = …``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from center.audit import AuditEntry, AuditWriter
from center.errors import BadRequest, CenterError, Conflict, NotFound
from center.incidents import IssuanceStop
from center.incidents_store import in_force
from center.municipal.requests import BadIssueRequest, IssueRequest
from center.municipal_client import (
    MunicipalClient,
    MunicipalityUnavailable,
    MunicipalOrderVoided,
    MunicipalRefusal,
)
from center.order_states import FINAL, OPEN, OrderEvent, OrderState, next_state
from center.retention import kept_request
from center.signing import unsealed_b64url
from center.store.driver import Connection, Database, Sql, stored_time
from documents import JST, CertificateType, b64url_encode

log = logging.getLogger(__name__)

ORDER_WINDOW = dt.timedelta(minutes=10)  # from the card's proof to the order
ORDER_DEADLINE = dt.timedelta(minutes=10)  # from the order to printed: else it is voided
UNKNOWN_TYPE = "unknown"  # a copy of an item the request does not have (never, from a sound municipality)


class _Overtaken(Exception):
    """Another call moved the order between reading it and moving it: decide again."""


class _Stopped(Exception):
    """An operator's stop refuses the new order (raised out of the connection, then audited)."""

    def __init__(self, stop: IssuanceStop, subject: str) -> None:
        super().__init__(f"stop {stop.stop_id}")
        self.stop = stop
        self.subject = subject


@dataclass(frozen=True)
class FeeShares:
    """The per-copy shares of each fee (手数料の配分): the rest is the municipality's."""

    center: int = 60
    store: int = 55

    def split(self, fees: Sequence[int]) -> dict[str, int]:
        """The ledger's lines of settling copies with these ``fees``: the center's and the
        store's share of each copy, the rest the municipality's."""
        center, store = self.center * len(fees), self.store * len(fees)
        return {"municipality": sum(fees) - center - store, "center": center, "store": store}


DEFAULT_SHARES = FeeShares()


@dataclass(frozen=True)
class Copy:
    issue_number: str
    pages: int
    fee: int
    sealed: bytes


@dataclass(frozen=True)
class PlacedOrder:
    order_id: str
    state: OrderState
    fee: int | None
    copies: tuple[Copy, ...] = ()
    reason: str | None = None


_SESSION = Sql(
    "SELECT s.status, s.consumed_at, s.municipality, s.subject, s.holder_proof, "
    "t.store, t.certificate FROM sessions s JOIN terminals t ON t.id = s.terminal_id "
    "WHERE s.id = :session_id AND s.terminal_id = :terminal_id"
)
_INSERT_ORDER = Sql(
    "INSERT INTO orders (id, terminal_id, idempotency_key, request_hash, session_id, municipality, subject, "
    "store, state, fee, reason, municipal_request, void_pending, created_at, updated_at, deadline) "
    "VALUES (:id, :terminal_id, :key, :request_hash, :session_id, :municipality, :subject, :store, "
    "'requested', NULL, NULL, :municipal_request, :void_pending, :now, :now, :deadline) "
    "ON CONFLICT (terminal_id, idempotency_key) DO NOTHING"
)
_COLUMNS = (
    "id, terminal_id, request_hash, session_id, municipality, subject, store, state, fee, reason, "
    "municipal_request, deadline"
)
_ORDER_BY_KEY = Sql(
    f"SELECT {_COLUMNS} FROM orders WHERE terminal_id = :terminal_id AND idempotency_key = :key"
)
_ORDER = Sql(f"SELECT {_COLUMNS} FROM orders WHERE id = :order_id AND terminal_id = :terminal_id")
# a move may add that the municipality is to be told of a void; only telling it takes that away
# (_VOID_TOLD): a refund reported while the municipality is unreachable keeps its void to tell.
# A move to a final state cuts the municipal request down in the same statement (center.retention)
_MOVE = Sql(
    "UPDATE orders SET state = :to, fee = COALESCE(:fee, fee), reason = COALESCE(:reason, reason), "
    "void_pending = (void_pending OR :void_pending), "
    "municipal_request = COALESCE(:kept_request, municipal_request), updated_at = :now "
    "WHERE id = :order_id AND state = :from"
)
_INSERT_COPY = Sql(
    "INSERT INTO order_copies (issue_number, order_id, item, copy, pages, fee, content_hash, code_hash, "
    "printed_at, certificate_type) VALUES (:issue_number, :order_id, :item, :copy, :pages, :fee, "
    ":content_hash, :code_hash, NULL, :certificate_type) "
    "ON CONFLICT (issue_number) DO NOTHING"
)
_COPIES = Sql(
    "SELECT issue_number, fee, printed_at FROM order_copies WHERE order_id = :order_id ORDER BY item, copy"
)
_PRINT_COPY = Sql(
    "UPDATE order_copies SET printed_at = :now WHERE order_id = :order_id "
    "AND issue_number = :issue_number AND printed_at IS NULL"
)
_LEDGER = Sql(
    "INSERT INTO ledger (order_id, account, municipality, store, terminal_id, amount, day, at) "
    "VALUES (:order_id, :account, :municipality, :store, :terminal_id, :amount, :day, :now)"
)
# an order the terminal is printing is never voided by its deadline: the terminal ends it
_EXPIRED = Sql(
    "SELECT id, terminal_id FROM orders WHERE state IN ('requested', 'issued') AND deadline < :now"
)
_EXPIRE = Sql(
    "UPDATE orders SET state = 'voided', reason = 'order_timeout', void_pending = :yes, updated_at = :now "
    "WHERE id = :order_id AND state IN ('requested', 'issued') AND deadline < :now"
)
_VOID_PENDING = Sql("SELECT id, municipality, reason FROM orders WHERE void_pending = :yes")
_VOID_PENDING_OF = Sql(
    "SELECT id, municipality, reason FROM orders WHERE id = :order_id AND void_pending = :yes"
)
_VOID_TOLD = Sql("UPDATE orders SET void_pending = :no WHERE id = :order_id")
_STALE_PRINTING = Sql("SELECT COUNT(*) AS n FROM orders WHERE state = 'printing' AND deadline < :now")


async def authenticated_session(
    connection: Connection, terminal_id: str, session_id: str, now: dt.datetime
) -> dict[str, Any]:
    """The session of this terminal whose resident was authenticated, recently enough to order
    in; with the terminal's store and certificate."""
    session = await connection.one(_SESSION, {"session_id": session_id, "terminal_id": terminal_id})
    if session is None:
        raise NotFound("unknown_session", "no such session for this terminal")
    if session["status"] != "authenticated" or session["holder_proof"] is None:
        raise Conflict("session_not_authenticated", "the resident has not been authenticated in this session")
    if now - stored_time(session["consumed_at"]) > ORDER_WINDOW:
        raise Conflict("session_expired", "this session is too old to order in; please start again")
    return session


_FORGET_HOLDERS = Sql(
    "UPDATE sessions SET holder_proof = NULL WHERE holder_proof IS NOT NULL AND consumed_at < :horizon"
)


async def forget_holders(connection: Connection, now: dt.datetime) -> int:
    """Sessions too old to order in forget their holder's proof (kept only so that an order can
    be placed for them); the audit keeps the serial's keyed hash."""
    return await connection.execute(_FORGET_HOLDERS, {"horizon": now - ORDER_WINDOW})


class OrderService:
    def __init__(
        self,
        database: Database,
        municipalities: MunicipalClient,
        decisions: AuditWriter,
        *,
        shares: FeeShares = DEFAULT_SHARES,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        deadline: dt.timedelta = ORDER_DEADLINE,
    ) -> None:
        self.database = database
        self.municipalities = municipalities
        self.decisions = decisions
        self.shares = shares
        self.clock = clock
        self.deadline = deadline

    # -- placing -------------------------------------------------------------------------------

    async def place(
        self,
        terminal_id: str,
        session_id: str,
        idempotency_key: str,
        order: dict[str, Any],
        *,
        municipality: str | None = None,
    ) -> PlacedOrder:
        """Place the order of an authenticated session (or find it again by its key), with the
        resident's municipality, or ``municipality`` (the registered domicile's, 本籍地): the
        order keeps the municipality it went to, which its course (printed, voids, the
        settlement) concerns. A new order is refused where an operator stopped issuance
        (:mod:`center.incidents`); one placed already is not: it completes or voids as it
        would have."""
        now = self.clock()
        asked = hashlib.sha256(json.dumps(order, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
        try:
            async with self.database.connection() as connection:
                existing = await connection.one(
                    _ORDER_BY_KEY, {"terminal_id": terminal_id, "key": idempotency_key}
                )
                if existing is None:
                    existing = await self._insert(
                        connection, terminal_id, session_id, idempotency_key, order, asked, now, municipality
                    )
        except _Stopped as stopped:
            refusal = stopped.stop.refusal()
            entry = AuditEntry(
                "order_placement",
                "refused",
                refusal.code,
                terminal_id,
                session_id,
                stopped.subject,
                detail=f"stop {stopped.stop.stop_id}",
            )
            await self.decisions.record(entry, now)
            raise refusal from None
        if existing["request_hash"] != asked or existing["session_id"] != session_id:
            raise Conflict("idempotency_conflict", "this idempotency key was used for another order")
        state = OrderState(existing["state"])
        if state is OrderState.REQUESTED or state is OrderState.ISSUED:
            return await self._ask(existing, now)
        # settled, printed, voided or refunded: what happened, never the copies again
        return PlacedOrder(existing["id"], state, existing["fee"], reason=existing["reason"])

    async def _insert(
        self,
        connection: Connection,
        terminal_id: str,
        session_id: str,
        key: str,
        order: dict[str, Any],
        asked: str,
        now: dt.datetime,
        municipality: str | None,
    ) -> dict[str, Any]:
        session = await authenticated_session(connection, terminal_id, session_id, now)
        to = municipality or session["municipality"]
        order_id = str(uuid.uuid4())
        try:
            request = IssueRequest.from_json(
                {
                    "order_id": order_id,
                    "session_id": session_id,
                    "terminal_id": terminal_id,
                    "store": session["store"],
                    "printer": order.get("printer"),
                    "holder_proof": json.loads(session["holder_proof"]),
                    "terminal_certificate": b64url_encode(bytes(session["certificate"])),
                    "items": order.get("items"),
                }
            )
        except BadIssueRequest as error:
            raise BadRequest("invalid_order", str(error).replace("request.", "order.", 1)) from None
        kinds = [item.certificate_type.value for item in request.items]
        stop = (await in_force(connection)).for_order(terminal_id, to, kinds)
        if stop is not None:
            raise _Stopped(stop, session["subject"])
        row = {
            "id": order_id,
            "terminal_id": terminal_id,
            "key": key,
            "request_hash": asked,
            "session_id": session_id,
            "municipality": to,
            "subject": session["subject"],
            "store": session["store"],
            "municipal_request": json.dumps(request.to_json(), ensure_ascii=False),
            "void_pending": False,
            "now": now,
            "deadline": now + self.deadline,
        }
        await connection.execute(_INSERT_ORDER, row)
        # the row inserted, or the one a racing request with the same key inserted first
        inserted = await connection.one(_ORDER_BY_KEY, {"terminal_id": terminal_id, "key": key})
        assert inserted is not None
        return inserted

    async def _ask(self, order: dict[str, Any], now: dt.datetime) -> PlacedOrder:
        order_id, municipality = order["id"], order["municipality"]
        try:
            answer = await self.municipalities.issue(municipality, json.loads(order["municipal_request"]))
        except MunicipalRefusal as refusal:
            await self._move(order, OrderEvent.VOID, now, reason=refusal.code)
            await self._audit(order, "order_refused", refusal.code, now)
            refusal.details["order_id"] = order_id  # the kiosk reports the refund against it
            raise
        except MunicipalityUnavailable as error:
            if await self._void_unissued(order, error.code, now):
                error.details["order_id"] = order_id  # the kiosk reports the refund against it
            raise
        except MunicipalOrderVoided:  # voided here first (its deadline); the municipality issued nothing
            await self._void_unissued(order, "order_voided", now)
            current = await self._load(order["terminal_id"], order_id)
            raise Conflict(
                "order_voided",
                "this order was cancelled",
                details={"state": current["state"], "order_id": order_id},  # to report its refund
            ) from None
        copies = tuple(Copy(c.issue_number, c.pages, c.fee, unsealed_b64url(c.sealed)) for c in answer.copies)
        kinds = _certificate_types(order["municipal_request"])
        async with self.database.connection() as connection, connection.transaction():
            for item in answer.copies:
                await connection.execute(
                    _INSERT_COPY,
                    {
                        "issue_number": item.issue_number,
                        "order_id": order_id,
                        "item": item.item,
                        "copy": item.copy,
                        "pages": item.pages,
                        "fee": item.fee,
                        "content_hash": item.content_hash,
                        "code_hash": item.code_hash,
                        "certificate_type": kinds[item.item] if 0 <= item.item < len(kinds) else UNKNOWN_TYPE,
                    },
                )
            moved = await connection.execute(
                _MOVE,
                {
                    "order_id": order_id,
                    "from": OrderState.REQUESTED.value,
                    "to": OrderState.ISSUED.value,
                    "fee": answer.fee,
                    "reason": None,
                    "void_pending": False,
                    "kept_request": None,
                    "now": now,
                },
            )
        if not moved:
            current = await self._load(order["terminal_id"], order_id)
            if current["state"] != OrderState.ISSUED:  # voided meanwhile (its deadline): deliver nothing
                raise Conflict(
                    "order_voided",
                    "this order was cancelled",
                    details={"state": current["state"], "order_id": order_id},  # to report its refund
                )
        else:
            await self._audit(order, "order_issued", None, now)
        return PlacedOrder(order_id, OrderState.ISSUED, answer.fee, copies)

    async def _void_unissued(self, order: dict[str, Any], reason: str, now: dt.datetime) -> bool:
        """The municipality could not be reached: an order it has not issued is voided, and it is
        told to void whatever it may have issued before failing, until it answers (one not
        connected to the service was never asked). An order already issued is left as it is: its
        copies were delivered, the kiosk may print them; a repeated placement that fails changes
        nothing (the kiosk voids it if it prints nothing, its deadline otherwise). Whether the
        order is voided now."""
        voiding = {
            "order_id": order["id"],
            "from": OrderState.REQUESTED.value,
            "to": OrderState.VOIDED.value,
            "fee": None,
            "reason": reason,
            "void_pending": self.municipalities.knows(order["municipality"]),
            "kept_request": None,
            "now": now,
        }
        async with self.database.connection() as connection:
            moved = await connection.execute(_MOVE, voiding)
        if moved:
            await self._audit(order, "order_voided", reason, now)
            return True
        current = await self._load(order["terminal_id"], order["id"])
        return OrderState(current["state"]) in (OrderState.VOIDED, OrderState.REFUNDED)

    async def offer(
        self, terminal_id: str, session_id: str, *, municipality: str | None = None
    ) -> dict[str, Any]:
        """What the session's resident can have now, as their municipality answers, or
        ``municipality`` (the registered domicile's) (its personal part sealed to the terminal);
        refused where an operator stopped issuance for this resident (everything, the terminal,
        the municipality asked: it is not asked then), and each certificate type an operator
        stopped marked unavailable with the reason."""
        now = self.clock()
        async with self.database.connection() as connection:
            session = await authenticated_session(connection, terminal_id, session_id, now)
            stops = await in_force(connection)
        asked = municipality or session["municipality"]
        stop = stops.for_resident(terminal_id, asked)
        if stop is not None:
            raise stop.refusal()
        offered = await self.municipalities.offer(
            asked,
            {
                "session_id": session_id,
                "terminal_id": terminal_id,
                "holder_proof": json.loads(session["holder_proof"]),
                "terminal_certificate": b64url_encode(bytes(session["certificate"])),
            },
        )
        for kind in CertificateType:
            stopped, entry = stops.for_certificate(kind.value), offered["certificates"].get(kind.value)
            if stopped is not None and entry is not None:
                refusal = stopped.refusal()
                entry.update(
                    available=False,
                    reason=refusal.code,
                    message_ja=stopped.reason.ja,
                    message_en=stopped.reason.en,
                )
        return offered

    # -- after the copies ----------------------------------------------------------------------

    async def printing(self, terminal_id: str, order_id: str) -> OrderState:
        """The terminal's job goes to the printer now: from here on no deadline voids the order,
        only the terminal's ``printed`` or ``void`` ends it (the terminal prints nothing until
        the center has heard this)."""
        return await self._reported(
            terminal_id,
            order_id,
            OrderEvent.PRINTING,
            lambda order: self._move(order, OrderEvent.PRINTING, self.clock()),
        )

    async def printed(self, terminal_id: str, order_id: str, issue_numbers: Sequence[str]) -> OrderState:
        """These copies came out whole; every other copy of the order is void (it did not start,
        or stopped part way) and its fee is not due. The center records it first, then tells the
        municipality which copies were printed and which are void (a void it cannot tell yet is
        pending, as any other); if the municipality cannot be told the printed ones, the
        terminal's retry tells it. Reporting other copies than the first report is refused."""
        return await self._reported(
            terminal_id, order_id, OrderEvent.PRINTED, lambda order: self._printed(order, issue_numbers)
        )

    async def _printed(self, order: dict[str, Any], issue_numbers: Sequence[str]) -> OrderState:
        now, order_id = self.clock(), order["id"]
        async with self.database.connection() as connection:
            copies = {row["issue_number"]: row for row in await _all(connection, _COPIES, order_id)}
        printed = set(issue_numbers)
        if not printed or not printed <= set(copies):
            raise BadRequest("unknown_copies", "these are not this order's copies")
        state = OrderState(order["state"])
        if next_state(state, OrderEvent.PRINTED) is None:  # reported before: the same copies only
            if printed != {number for number, row in copies.items() if row["printed_at"] is not None}:
                raise Conflict("printed_differs", "other copies were reported printed for this order")
        else:
            spoiled = len(printed) < len(copies)  # a copy not printed whole is void at the municipality
            async with self.database.connection() as connection, connection.transaction():
                for number in sorted(printed):
                    await connection.execute(
                        _PRINT_COPY, {"order_id": order_id, "issue_number": number, "now": now}
                    )
                moved = await connection.execute(
                    _MOVE,
                    {
                        "order_id": order_id,
                        "from": OrderState.PRINTING.value,
                        "to": OrderState.PRINTED.value,
                        "fee": None,
                        "reason": "partly_printed" if spoiled else None,
                        "void_pending": spoiled,
                        "kept_request": None,
                        "now": now,
                    },
                )
                if not moved:
                    raise _Overtaken()
            state = OrderState.PRINTED
        await self.municipalities.printed(order["municipality"], order_id, sorted(printed))
        await self._tell(_VOID_PENDING_OF, order_id=order_id)
        return state

    async def settle(self, terminal_id: str, order_id: str, paid: int) -> OrderState:
        """The coins went into the cash box: the fees of the copies printed, split in the ledger
        once. Any other amount is refused (``wrong_amount``) and audited: the store's staff
        and the center settle it by hand."""
        return await self._reported(
            terminal_id, order_id, OrderEvent.SETTLE, lambda order: self._settle(order, paid)
        )

    async def _settle(self, order: dict[str, Any], paid: int) -> OrderState:
        now, order_id, terminal_id = self.clock(), order["id"], order["terminal_id"]
        if next_state(OrderState(order["state"]), OrderEvent.SETTLE) is None:
            return OrderState(order["state"])
        async with self.database.connection() as connection:
            copies = await _all(connection, _COPIES, order_id)
        printed = [row for row in copies if row["printed_at"] is not None]
        due = sum(row["fee"] for row in printed)
        if paid != due:
            raise BadRequest(
                "wrong_amount", "the amount paid is not the fees of the copies printed", details={"due": due}
            )
        entries = self.shares.split([row["fee"] for row in printed])
        async with self.database.connection() as connection, connection.transaction():
            moved = await connection.execute(
                _MOVE,
                {
                    "order_id": order_id,
                    "from": OrderState.PRINTED.value,
                    "to": OrderState.SETTLED.value,
                    "fee": None,
                    "reason": None,
                    "void_pending": False,
                    "kept_request": kept_request(order["municipal_request"]),
                    "now": now,
                },
            )
            if moved:
                await connection.execute_many(
                    _LEDGER,
                    [
                        {
                            "order_id": order_id,
                            "account": account,
                            "municipality": order["municipality"],
                            "store": order["store"],
                            "terminal_id": terminal_id,
                            "amount": amount,
                            "day": now.astimezone(JST).date(),
                            "now": now,
                        }
                        for account, amount in entries.items()
                    ],
                )
        if not moved:  # settled meanwhile (or its settlement rolled back: then this one settles it)
            raise _Overtaken()
        return OrderState.SETTLED

    async def _reported(
        self,
        terminal_id: str,
        order_id: str,
        event: OrderEvent,
        report: Callable[[dict[str, Any]], Awaitable[OrderState]],
    ) -> OrderState:
        """A terminal's report once the copies are delivered: one that another call overtook is
        decided again from where the order is now; one refused is audited (the terminal keeps
        it for the store's staff: a printed order refused, an amount that is not due)."""
        order = await self._load(terminal_id, order_id)
        try:
            while True:
                try:
                    return await report(order)
                except _Overtaken:
                    order = await self._load(terminal_id, order_id)
        except (Conflict, BadRequest) as refused:
            await self._audit(order, f"order_{event.value}_refused", refused.code, self.clock())
            raise

    async def void(self, terminal_id: str, order_id: str, reason: str) -> OrderState:
        """The terminal cancels the order (the resident, a timeout, a printer fault)."""
        now = self.clock()
        order = await self._load(terminal_id, order_id)
        try:
            state = await self._move(order, OrderEvent.VOID, now, reason=reason, void_pending=True)
        except Conflict as refused:  # a printed order: the terminal keeps it for the store's staff
            await self._audit(order, "order_void_refused", refused.code, now)
            raise
        await self._audit(order, "order_voided", reason, now)
        await self._tell(_VOID_PENDING_OF, order_id=order_id)  # this one only: the rest is housekeeping's
        return state

    async def refunded(self, terminal_id: str, order_id: str) -> OrderState:
        order = await self._load(terminal_id, order_id)
        try:
            return await self._move(order, OrderEvent.REFUNDED, self.clock())
        except Conflict as refused:  # an order not voided: the terminal keeps it for the store's staff
            await self._audit(order, "order_refunded_refused", refused.code, self.clock())
            raise

    async def state(self, terminal_id: str, order_id: str) -> PlacedOrder:
        order = await self._load(terminal_id, order_id)
        return PlacedOrder(order_id, OrderState(order["state"]), order["fee"], reason=order["reason"])

    # -- housekeeping --------------------------------------------------------------------------

    async def expire(self) -> int:
        """Void every order still open past its deadline (never one printing), to be told to
        its municipality (:meth:`tell_voids`, the housekeeping's other round). Returns how many
        were voided by this call."""
        now = self.clock()
        async with self.database.connection() as connection:
            expired = await _all(connection, _EXPIRED, None, now=now)
        voided = 0
        for row in expired:
            async with self.database.connection() as connection:
                # in one statement: still open, still overdue, still no copy on paper
                moved = await connection.execute(_EXPIRE, {"order_id": row["id"], "now": now, "yes": True})
            if moved:
                await self._audit(
                    await self._load(row["terminal_id"], row["id"]), "order_voided", "order_timeout", now
                )
                voided += 1
        async with self.database.connection() as connection:
            stale = await connection.one(_STALE_PRINTING, {"now": now})
        if stale and stale["n"]:
            log.warning(
                "%d order(s) printing past their deadline: their terminals are to end them", stale["n"]
            )
        return voided

    async def tell_voids(self) -> None:
        """Tell each municipality of the voided orders it has not heard of yet (housekeeping)."""
        await self._tell(_VOID_PENDING, order_id=None)

    async def _tell(self, pending_sql: Sql, *, order_id: str | None) -> None:
        """Each municipality is told of its pending voids in turn, the municipalities at once; one
        that cannot be reached is not asked again in this round (its voids wait for the next), so
        a municipality that is down holds a round up for one timeout, not one per void."""
        async with self.database.connection() as connection:
            pending = await _all(connection, pending_sql, order_id, yes=True)
        by_municipality: dict[str, list[dict[str, Any]]] = {}
        for row in pending:
            by_municipality.setdefault(row["municipality"], []).append(row)
        await asyncio.gather(*(self._tell_one(code, rows) for code, rows in by_municipality.items()))

    async def _tell_one(self, municipality: str, pending: Sequence[dict[str, Any]]) -> None:
        for told, row in enumerate(pending):
            try:
                await self.municipalities.void(
                    municipality, row["id"], row["reason"] or "voided", await self._void_copies(row["id"])
                )
            except CenterError as error:
                log.warning(
                    "%d void(s) not yet told to %s (%s); trying again later",
                    len(pending) - told,
                    municipality,
                    error.code,
                )
                return
            async with self.database.connection() as connection:
                await connection.execute(_VOID_TOLD, {"order_id": row["id"], "no": False})

    async def _void_copies(self, order_id: str) -> list[str] | None:
        """The copies to void of an order with copies printed: those not printed whole (``None``:
        none was printed, the municipality voids every copy it issued for the order)."""
        async with self.database.connection() as connection:
            copies = await _all(connection, _COPIES, order_id)
        if all(row["printed_at"] is None for row in copies):
            return None
        return [row["issue_number"] for row in copies if row["printed_at"] is None]

    # -- the table -----------------------------------------------------------------------------

    async def _load(self, terminal_id: str, order_id: str) -> dict[str, Any]:
        async with self.database.connection() as connection:
            order = await connection.one(_ORDER, {"order_id": order_id, "terminal_id": terminal_id})
        if order is None:
            raise NotFound("unknown_order", "no such order for this terminal")
        return order

    async def _move(
        self,
        order: dict[str, Any],
        event: OrderEvent,
        now: dt.datetime,
        *,
        reason: str | None = None,
        void_pending: bool = False,
    ) -> OrderState:
        state = OrderState(order["state"])
        target = next_state(state, event)
        if target is None:
            return state
        async with self.database.connection() as connection:
            moved = await connection.execute(
                _MOVE,
                {
                    "order_id": order["id"],
                    "from": state.value,
                    "to": target.value,
                    "fee": None,
                    "reason": reason,
                    "void_pending": void_pending,
                    "kept_request": kept_request(order["municipal_request"]) if target in FINAL else None,
                    "now": now,
                },
            )
        if not moved:  # another call moved it first: decide again from where it is now
            return await self._replay(
                order["terminal_id"], order["id"], event, reason=reason, void_pending=void_pending
            )
        return target

    async def _replay(self, terminal_id: str, order_id: str, event: OrderEvent, **changes: Any) -> OrderState:
        order = await self._load(terminal_id, order_id)
        if OrderState(order["state"]) in OPEN or next_state(OrderState(order["state"]), event) is not None:
            return await self._move(order, event, self.clock(), **changes)
        return OrderState(order["state"])

    async def _audit(self, order: dict[str, Any], event: str, reason: str | None, now: dt.datetime) -> None:
        """One line about the order, which it names (``detail``): the console finds a terminal's
        refused reports (escalated at the kiosk) by it."""
        outcome = "accepted" if reason is None else "refused"
        await self.decisions.record(
            AuditEntry(
                event,
                outcome,
                reason,
                order["terminal_id"],
                order["session_id"],
                order["subject"],
                detail=order_detail(order["id"]),
            ),
            now,
        )


def order_detail(order_id: str) -> str:
    """What an audit line about one order says in its ``detail``: the order it concerns."""
    return f"order {order_id}"


def _certificate_types(municipal_request: str) -> list[str]:
    """The certificate type of each item the order asked for, in the request's order (a copy
    names its item by its index there)."""
    items = json.loads(municipal_request).get("items") or []
    return [str(item.get("certificate_type") or UNKNOWN_TYPE) for item in items]


async def _all(connection: Connection, sql: Sql, order_id: str | None, **params: Any) -> list[dict[str, Any]]:
    if order_id is not None:
        params["order_id"] = order_id
    return await connection.all(sql, params)
