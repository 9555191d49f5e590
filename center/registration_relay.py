"""Usage registrations for the registered domicile (本籍地の利用登録) and the issuance record
(交付履歴), as the center relays them between a terminal and the municipalities.

The center is a router here, never a reader. A resident's application is sealed by the terminal
to the domicile municipality, and every answer about the person (the registration's status,
the issuance record) is sealed by the municipality to the terminal: the center passes them on
unread. What it keeps is the **route** (``registration_routes``): the card holder, by the keyed
hash of the card's serial (:func:`center.audit.subject_of`, what sessions and the audit log
already name them by), → the domicile municipality and the registration's id there. A later
application of the same card replaces it; a renewed card is followed by the serials it replaced
as the authority's signed OCSP answer states them (:mod:`center.previous_serials`), and then its
own new subject gets the same route.

- :meth:`RegistrationRelay.apply`: the application, with the authority's OCSP answer about the
  card's signing certificate (署名用電子証明書: the terminal's OCSP request, forwarded as it came
  once it is one plain question), to the domicile municipality; the route kept.
- :meth:`RegistrationRelay.status`: the registration the holder is known by, asked again of its
  municipality (a route the municipality no longer knows is forgotten).
- :meth:`RegistrationRelay.domicile_of`: where a ``source=domicile`` offer or order goes.
- :meth:`RegistrationRelay.issuance_record`: the holder's issuance record from the residence
  and, if routed, the domicile municipality at once; one that cannot be asked is listed, not
  fatal. Nothing of it is kept.

Each relayed decision writes one audit line without content (``usage_registration_relayed``,
``usage_registration_followed``, ``issuance_record_relayed``); a refusal writes its code.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509

from center import audit
from center.audit import AuditEntry, AuditWriter, Change
from center.authority_client import AuthorityClient, NotOneQuestion, single_certid_request
from center.errors import BadRequest, CenterError, NotFound
from center.jpki_verify import UnusableRevocation, find_issuer, judge_ocsp, load_certificate
from center.municipal_client import MunicipalClient, MunicipalityUnavailable, MunicipalRefusal
from center.orders import authenticated_session
from center.sealing_keys import SealingKeys
from center.store.driver import Connection, Database, Sql
from documents import b64url_decode, b64url_encode

log = logging.getLogger(__name__)

_ROUTE = Sql("SELECT municipality, registration_id FROM registration_routes WHERE subject = :subject")
_KEEP_ROUTE = Sql(
    "INSERT INTO registration_routes (subject, municipality, registration_id) "
    "VALUES (:subject, :municipality, :registration_id) "
    "ON CONFLICT (subject) DO UPDATE SET municipality = excluded.municipality, "
    "registration_id = excluded.registration_id"
)
_FORGET_ROUTE = Sql(
    "DELETE FROM registration_routes WHERE subject = :subject AND municipality = :municipality"
)


@dataclass(frozen=True)
class Route:
    """Where a card holder's usage registration is: the domicile municipality and its id there."""

    municipality: str
    registration_id: str


@dataclass(frozen=True)
class RegistrationRelayed:
    """A domicile municipality's answer about the holder's registration, to relay: its code and
    names, and the status sealed to the terminal (``koufu-registration/1``, unread)."""

    municipality: str
    name: str
    name_en: str
    sealed: str


@dataclass(frozen=True)
class IssuanceRecords:
    """Each municipality's sealed issuance record (``koufu-issuance-record/1``, unread), by code,
    and the municipalities that could not be asked."""

    records: tuple[tuple[str, str], ...]
    unavailable: tuple[str, ...]


class RegistrationRelay:
    def __init__(
        self,
        database: Database,
        municipalities: MunicipalClient,
        authority: AuthorityClient,
        sealing_keys: SealingKeys,
        decisions: AuditWriter,
        *,
        audit_secret: bytes,
        anchors: Sequence[x509.Certificate],
        clock: Callable[[], dt.datetime],
    ) -> None:
        self.database = database
        self.municipalities = municipalities
        self.authority = authority
        self.sealing_keys = sealing_keys
        self.decisions = decisions
        self.audit_secret = audit_secret
        self.anchors = list(anchors)
        self.clock = clock

    # -- the application (利用登録申請) ---------------------------------------------------------

    async def apply(
        self, terminal_id: str, session_id: str, municipality: str, sealed: str, ocsp_request: bytes
    ) -> RegistrationRelayed:
        """Relay the session holder's application, sealed to ``municipality``, with the
        authority's answer to ``ocsp_request`` (about the card's signing certificate); keep the
        route the municipality answers (a refused application has one too: its status says so)."""
        now = self.clock()
        subject = None
        try:
            session = await self._session(terminal_id, session_id, now)
            subject = session["subject"]
            names = await self._participating(municipality)
            try:
                question = single_certid_request(ocsp_request)
            except NotOneQuestion as error:
                raise BadRequest("invalid_body", f"signing_ocsp_request: {error}") from None
            revocation = await self.authority.forward_ocsp(question)
            answer = await self.municipalities.register(
                municipality,
                {
                    **_holder(session, session_id, terminal_id),
                    "sealed": sealed,
                    "signing_revocation": b64url_encode(revocation),
                },
            )
        except CenterError as error:
            raise await self._refused("usage_registration", error, terminal_id, session_id, subject) from None
        route = Change(
            _KEEP_ROUTE,
            {"subject": subject, "municipality": municipality, "registration_id": answer.registration_id},
        )
        await self._audit(
            AuditEntry("usage_registration_relayed", "accepted", None, terminal_id, session_id, subject),
            now,
            change=route,
        )
        return RegistrationRelayed(municipality, *names, answer.sealed)

    # -- its status -----------------------------------------------------------------------------

    async def status(self, terminal_id: str, session_id: str) -> RegistrationRelayed:
        """The registration the session's holder is known by, as its municipality answers now;
        ``no_registration`` when the center routes the holder nowhere, or the municipality no
        longer knows the registration (then the route is forgotten)."""
        now = self.clock()
        session = await self._session(terminal_id, session_id, now)
        route = await self._route(session, terminal_id, session_id, now)
        answer = await self.municipalities.registration(
            route.municipality, _holder(session, session_id, terminal_id)
        )
        if answer is None:
            async with self.database.connection() as connection:
                await connection.execute(
                    _FORGET_ROUTE, {"subject": session["subject"], "municipality": route.municipality}
                )
            raise _no_registration()
        if answer.registration_id != route.registration_id:  # the municipality's newer one
            async with self.database.connection() as connection:
                await connection.execute(
                    _KEEP_ROUTE,
                    {
                        "subject": session["subject"],
                        "municipality": route.municipality,
                        "registration_id": answer.registration_id,
                    },
                )
        return RegistrationRelayed(route.municipality, *await self._names(route.municipality), answer.sealed)

    async def domicile_of(self, terminal_id: str, session_id: str) -> str:
        """The domicile municipality the session's holder is routed to (``no_registration`` if
        none): where a ``source=domicile`` offer or order goes."""
        now = self.clock()
        session = await self._session(terminal_id, session_id, now)
        return (await self._route(session, terminal_id, session_id, now)).municipality

    # -- the issuance record (交付履歴) --------------------------------------------------------

    async def issuance_record(self, terminal_id: str, session_id: str) -> IssuanceRecords:
        """The holder's issuance record at the residence municipality and, when routed, at the
        domicile one, asked at once; a municipality that cannot be asked (or refuses) is listed
        in ``unavailable``. Relayed, never kept."""
        now = self.clock()
        session = await self._session(terminal_id, session_id, now)
        asked = [session["municipality"]]
        try:
            domicile = (await self._route(session, terminal_id, session_id, now)).municipality
        except NotFound:
            domicile = None
        if domicile is not None and domicile not in asked:
            asked.append(domicile)
        holder = _holder(session, session_id, terminal_id)
        answers = await asyncio.gather(
            *(self.municipalities.issuance_record(code, holder) for code in asked), return_exceptions=True
        )
        records, unavailable = [], []
        for code, answer in zip(asked, answers, strict=True):
            if isinstance(answer, str):
                records.append((code, answer))
            elif isinstance(answer, MunicipalityUnavailable | MunicipalRefusal):
                log.info("issuance record of municipality %s not had (%s)", code, answer.code)
                unavailable.append(code)
            else:
                raise answer
        await self._audit(
            AuditEntry(
                "issuance_record_relayed", "accepted", None, terminal_id, session_id, session["subject"]
            ),
            now,
        )
        return IssuanceRecords(tuple(records), tuple(unavailable))

    # -- the routes -----------------------------------------------------------------------------

    async def _route(
        self, session: dict[str, Any], terminal_id: str, session_id: str, now: dt.datetime
    ) -> Route:
        """The holder's route: by their card's subject, else by the first of the serials the
        card renewed (newest first, as the authority's checked answer in the session's proof
        states them) that has one, which the new card's subject then gets too."""
        subject = session["subject"]
        async with self.database.connection() as connection:
            found = await _route_of(connection, subject)
            if found is not None:
                return found
            for serial in self._previous_serials(session, now):
                found = await _route_of(connection, audit.subject_of(serial, self.audit_secret))
                if found is not None:
                    break
        if found is None:
            raise _no_registration()
        followed = Change(
            _KEEP_ROUTE,
            {
                "subject": subject,
                "municipality": found.municipality,
                "registration_id": found.registration_id,
            },
        )
        await self._audit(
            AuditEntry("usage_registration_followed", "accepted", None, terminal_id, session_id, subject),
            now,
            change=followed,
        )
        return found

    def _previous_serials(self, session: dict[str, Any], now: dt.datetime) -> tuple[int, ...]:
        """The serials the session's card renewed, as the authority's OCSP answer kept in the
        session's proof states them, checked again here (``()`` if it cannot be)."""
        proof = json.loads(session["holder_proof"])
        try:
            certificate = load_certificate(b64url_decode(proof["certificate"]))
            issuer = find_issuer(certificate, self.anchors)
            judged = judge_ocsp(b64url_decode(proof["revocation"]), certificate, issuer, now)
        except (CenterError, UnusableRevocation, ValueError, KeyError, TypeError) as error:
            log.warning("a session's proof does not state its previous serials (%s)", type(error).__name__)
            return ()
        return judged.previous_serials

    # -- shared ---------------------------------------------------------------------------------

    async def _session(self, terminal_id: str, session_id: str, now: dt.datetime) -> dict[str, Any]:
        async with self.database.connection() as connection:
            return await authenticated_session(connection, terminal_id, session_id, now)

    async def _participating(self, municipality: str) -> tuple[str, str]:
        """The names of ``municipality`` if a terminal may seal to it now (connected, its sealing
        key known and unexpired: what ``GET /v1/municipalities`` lists); else
        ``unknown_municipality``."""
        for entry in await self.sealing_keys.participating():
            if entry.municipality == municipality:
                return await self._names(municipality)
        raise NotFound("unknown_municipality", "no such municipality takes part in the service")

    async def _names(self, municipality: str) -> tuple[str, str]:
        """Its name and English name as its sealing key statement says them (its code if none)."""
        return await self.sealing_keys.names(municipality) or (municipality, municipality)

    async def _audit(self, entry: AuditEntry, now: dt.datetime, *, change: Change | None = None) -> None:
        await self.decisions.record(entry, now, change=change)
        log.info(
            "audit %s %s %s terminal=%s", entry.event, entry.outcome, entry.reason or "", entry.terminal_id
        )

    async def _refused(
        self, event: str, error: CenterError, terminal_id: str, session_id: str, subject: str | None
    ) -> CenterError:
        await self._audit(
            AuditEntry(event, "refused", error.code, terminal_id, session_id, subject), self.clock()
        )
        return error


async def _route_of(connection: Connection, subject: str) -> Route | None:
    row = await connection.one(_ROUTE, {"subject": subject})
    return None if row is None else Route(row["municipality"], row["registration_id"])


def _holder(session: dict[str, Any], session_id: str, terminal_id: str) -> dict[str, Any]:
    """Who asks, as every municipal request about the holder says it: the session, the terminal
    and its certificate, and the card's proof for the municipality to check itself."""
    return {
        "session_id": session_id,
        "terminal_id": terminal_id,
        "holder_proof": json.loads(session["holder_proof"]),
        "terminal_certificate": b64url_encode(bytes(session["certificate"])),
    }


def _no_registration() -> NotFound:
    return NotFound(
        "no_registration", "no usage registration of a registered domicile is known for this card"
    )
