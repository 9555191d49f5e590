"""A card holder's own issuance record (交付履歴の確認): every copy issued here with their card
in the twelve months before the municipality's clock, sealed to the terminal.

Whose copies: those requested by the resident the card links to (or the card it renewed links
to: the authority's checked previous serials), with any of their cards, and those requested
under the usage registration the holder is known by (本籍地の利用登録, :func:`registration_of`).
A holder known neither way gets a record with no rows, in the same shape as any other (sealed,
so its size is all the center sees): the answer never says whether the person is known here. The record is
read from the issuance history (交付履歴), one row per order and certificate type, newest first,
with the copies' issue numbers and those voided (:mod:`documents.issuance_record`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from center.municipal import schema
from center.municipal.holder_proof import ProvenHolder
from center.municipal.holder_request import HolderRequest
from center.municipal.issuer import Issuer, load_settings
from center.municipal.records import RecordStore
from center.municipal.registered_holder import registration_of
from center.municipal.registrations import Registrations
from documents import CertificateType
from documents.issuance_record import (
    MAX_ISSUANCES,
    IssuanceRecord,
    RecordedIssuance,
    seal_issuance_record,
    year_before,
)


@dataclass(frozen=True)
class RecordRequest(HolderRequest):
    """The center asking for the record of one session's card holder."""

    where = "issuance_record"


def make_record(issuer: Issuer, request: RecordRequest) -> bytes:
    """The record of the card's holder, signed and sealed to the requesting terminal."""
    checked = request.check(issuer)
    now, proven = checked.now, checked.proven
    registration = registration_of(Registrations(issuer.engine, issuer.clock), proven)
    with issuer.engine.connect() as connection:
        settings = load_settings(connection)
        whose = []
        resident_id = _resident_of(RecordStore(connection), proven)
        if resident_id is not None:
            whose.append(schema.issuance_history.c.requester_id == resident_id)
        if registration is not None:
            whose.append(schema.issuance_history.c.registration_id == registration.id)
        since = year_before(now)
        issuances = _issuances(connection, whose, since, now)
    if len(issuances) > MAX_ISSUANCES:  # the newest kept, and the period said to start with them
        issuances = issuances[:MAX_ISSUANCES]
        since = issuances[-1].issued_at
    record = IssuanceRecord(
        settings.municipality, settings.name, settings.name_en, since, now, tuple(issuances)
    )
    return seal_issuance_record(
        record,
        key=issuer.key,
        session_id=request.session_id,
        terminal_id=request.terminal_id,
        holder_certificate=proven.certificate_hash,
        terminal_public_key=checked.terminal_key,
        now=now,
    )


def _resident_of(records: RecordStore, proven: ProvenHolder) -> int | None:
    """The resident the card links to, or the card it renewed (newest first)."""
    for serial in (proven.serial, *proven.previous_serials):
        link = records.card_link(serial)
        if link is not None:
            return link.resident_id
    return None


def _issuances(
    connection: sa.Connection, whose: list[sa.ColumnElement[bool]], since: dt.datetime, until: dt.datetime
) -> list[RecordedIssuance]:
    """The rows of the copies ``whose`` names, issued from ``since`` to ``until``, newest first."""
    if not whose:
        return []
    history = schema.issuance_history.c
    copies = connection.execute(
        sa.select(
            history.order_id,
            history.certificate_type,
            history.issued_at,
            history.store,
            history.terminal_id,
            history.issue_number,
            history.status,
        )
        .where(sa.or_(*whose), history.issued_at >= since, history.issued_at <= until)
        .order_by(history.issued_at.desc(), history.order_id, history.item, history.copy)
    ).all()
    rows: dict[tuple[str, str], RecordedIssuance] = {}
    for copy in copies:
        key = (copy.order_id, copy.certificate_type)
        row = rows.get(key) or RecordedIssuance(
            copy.issued_at, copy.store, copy.terminal_id, CertificateType(copy.certificate_type), (), ()
        )
        voided = (copy.issue_number,) if copy.status == "voided" else ()
        rows[key] = RecordedIssuance(
            row.issued_at,
            row.store,
            row.terminal_id,
            row.certificate_type,
            (*row.issue_numbers, copy.issue_number),
            (*row.voided, *voided),
        )
    return list(rows.values())
