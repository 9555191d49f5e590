"""A terminal enrolled (端末登録) from its own certificate signing request, and an enrolled
terminal placed (設置場所の登録): the command line's ``koufu center enroll-terminal --csr`` and
``koufu center terminal place``, and the console's Fleet page, all go through here, so each change
commits in one transaction with its audit line (the person as the actor).

- :func:`enrol_requested`: the request checked (:func:`center.enrolment_request.check_request`),
  its key certified by the terminal CA and registered; event ``terminal_enrolled``. The center
  never sees the terminal's private key. An id enrolled already is refused ``terminal_exists``.
- :func:`place`: the store's name, municipality and chain of an enrolled terminal set or changed
  (terminals enrolled before they were recorded have none, so municipal staff do not see them);
  event ``terminal_placed``, old → new in the detail.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from center.audit import AuditEntry, append_many, chain_head
from center.enrolment import fingerprint
from center.enrolment_request import check_request
from center.errors import BadRequest, NotFound
from center.incidents import operator_name, plain_text
from center.store.driver import Connection, Database, Sql
from center.terminals import ACTIVE, TerminalCA, check_chain, check_municipality, check_terminal_id

ENROLLED_EVENT = "terminal_enrolled"
PLACED_EVENT = "terminal_placed"
MAX_STORE = 200
DETAIL = 120  # the audit line's detail column

_INSERT = Sql(
    "INSERT INTO terminals (id, store, public_key, certificate, status, municipality, chain, "
    "enrolled_at, updated_at) VALUES (:id, :store, :public_key, :certificate, :status, :municipality, "
    ":chain, :now, :now) ON CONFLICT (id) DO NOTHING RETURNING id"
)
_PLACEMENT = Sql("SELECT store, municipality, chain FROM terminals WHERE id = :terminal_id")
_PLACE = Sql(
    "UPDATE terminals SET store = :store, municipality = :municipality, chain = :chain, "
    "updated_at = :now WHERE id = :terminal_id"
)


class _Keep:
    """A placement's part left as it is."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Final = _Keep()


@dataclass(frozen=True)
class Placement:
    """Where a terminal stands: its store's name, the store's municipality and chain (if known)."""

    store: str
    municipality: str | None = None
    chain: str | None = None

    def checked(self) -> Placement:
        """The placement, each part checked (``bad_store``, ``bad_municipality``, ``bad_chain``)."""
        try:
            store = plain_text(self.store, "the store's name", MAX_STORE)
        except BadRequest as refused:
            raise BadRequest("bad_store", refused.message) from None
        chain = check_chain(self.chain) if self.chain is not None else None
        return Placement(store, check_municipality(self.municipality), chain)

    def changes(self, new: Placement) -> str:
        """What ``new`` changes, as the audit line says it (``chain None→familymart``)."""
        parts = [
            f"{name} {getattr(self, name)}→{getattr(new, name)}"
            for name in ("municipality", "chain", "store")
            if getattr(self, name) != getattr(new, name)
        ]
        return "; ".join(parts) or "unchanged"


async def enrol_requested(
    database: Database,
    chain_key: bytes,
    ca: TerminalCA,
    terminal_id: str,
    placement: Placement,
    request: bytes | str,
    by: str,
    now: dt.datetime,
) -> x509.Certificate:
    """Enrol ``terminal_id`` with the key of its certificate signing ``request``, on behalf of
    ``by`` (a console account, or ``cli:USER``), audited; the certificate issued. Refusals:
    ``bad_terminal_id``, the placement's, the request's (``bad_csr``, ``csr_signature``,
    ``csr_key``, ``csr_subject``), and ``terminal_exists`` (409) for an id enrolled already."""
    check_terminal_id(terminal_id)
    placement = placement.checked()
    by = operator_name(by)
    public_key = check_request(request, terminal_id)
    certificate = ca.issue(terminal_id, public_key, now=now)
    async with database.connection() as connection, connection.transaction():
        inserted = await connection.one(
            _INSERT,
            {
                "id": terminal_id,
                "store": placement.store,
                "public_key": public_key.public_bytes(
                    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
                ),
                "certificate": certificate.public_bytes(serialization.Encoding.DER),
                "status": ACTIVE,
                "municipality": placement.municipality,
                "chain": placement.chain,
                "now": now,
            },
        )
        if inserted is None:
            raise BadRequest("terminal_exists", f"terminal {terminal_id} is enrolled already", status=409)
        detail = f"terminal {terminal_id}: sha256 {fingerprint(certificate).replace(':', '')[:32]}"
        await _audit(
            connection,
            chain_key,
            AuditEntry(ENROLLED_EVENT, ACTIVE, "csr", terminal_id, actor=by, detail=detail),
            now,
        )
    return certificate


async def place(
    database: Database,
    chain_key: bytes,
    terminal_id: str,
    by: str,
    now: dt.datetime,
    *,
    store: str | _Keep = KEEP,
    municipality: str | _Keep | None = KEEP,
    chain: str | _Keep | None = KEEP,
) -> Placement:
    """Set where ``terminal_id`` stands (what is not given stays), on behalf of ``by``, audited
    with old → new; the placement it is left with. ``unknown_terminal`` (404) if not enrolled."""
    check_terminal_id(terminal_id)
    by = operator_name(by)
    async with database.connection() as connection, connection.transaction():
        row = await connection.one(_PLACEMENT, {"terminal_id": terminal_id})
        if row is None:
            raise NotFound("unknown_terminal", f"no terminal {terminal_id}")
        old = Placement(row["store"], row["municipality"], row["chain"])
        new = old
        if not isinstance(store, _Keep):
            new = replace(new, store=store)
        if not isinstance(municipality, _Keep):
            new = replace(new, municipality=municipality)
        if not isinstance(chain, _Keep):
            new = replace(new, chain=chain)
        new = new.checked()
        await connection.execute(
            _PLACE,
            {
                "store": new.store,
                "municipality": new.municipality,
                "chain": new.chain,
                "now": now,
                "terminal_id": terminal_id,
            },
        )
        detail = f"terminal {terminal_id}: {old.changes(new)}"
        entry = AuditEntry(PLACED_EVENT, "placed", "place", terminal_id, actor=by, detail=detail[:DETAIL])
        await _audit(connection, chain_key, entry, now)
    return new


async def _audit(connection: Connection, chain_key: bytes, entry: AuditEntry, now: dt.datetime) -> None:
    await append_many(connection, await chain_head(connection), [(entry, now)], chain_key)
