"""The messages between a terminal and the center (端末とセンターの電文), shared by both ends: the
center's routes (``center/api``) describe and answer them, the terminal's client
(``center/client.py``) reads the answers into them. Pydantic models only: no web framework, no
database.

Their names, fields, constraints and descriptions are the API's OpenAPI description (``/docs``),
so a model here carries no docstring: it would become the schema's description. The offer
(``GET /v1/sessions/{id}/offer``) is relayed as the municipality answers it (with the calendar's
closures and the operators' stops): :class:`OfferResponse` describes it, the route does not
rewrite it. The protocol is specified in ``docs/protocol.md``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, get_args

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

# -- sessions (利用者セッション) -----------------------------------------------------------------


class SessionResponse(BaseModel):
    session_id: str
    challenge: str = Field(description="unpadded base64url of the 32-byte single-use challenge")
    expires_at: dt.datetime


class ResidentProof(BaseModel):
    certificate: str = Field(
        max_length=12000, description="unpadded base64url of the user-auth certificate's DER"
    )
    signature: str = Field(
        max_length=2048, description="unpadded base64url of the card's RSA signature over the binding"
    )


class Availability(BaseModel):
    open: bool
    reason_code: str | None = None
    message_ja: str | None = None
    message_en: str | None = None


class ResidentResponse(BaseModel):
    session_id: str
    municipality: str = Field(description="地方公共団体コード of the resident's municipality")
    certificate_types: dict[str, Availability] = Field(
        description="which certificate types can be issued now, and why not"
    )


# -- the offer (交付可能な証明書) ------------------------------------------------------------------


class CertificateOffer(BaseModel):
    fee: int = Field(description="yen per copy")
    max_copies: int = Field(description="copies of this certificate per item")
    available: bool = Field(description="can be issued now for the holder (their own choices)")
    reason: str | None = Field(
        description=(
            "null when available; else a service calendar reason, a public refusal code of the"
            " municipality, refused_by_municipality (the detail is in the sealed part's reasons),"
            " or issuance_stopped (an operator stopped this certificate type: 交付停止)"
        )
    )
    message_ja: str | None = Field(
        default=None, description="only when the service calendar closed it or an operator stopped it"
    )
    message_en: str | None = Field(
        default=None, description="only when the service calendar closed it or an operator stopped it"
    )


class OfferResponse(BaseModel):
    municipality: str = Field(description="地方公共団体コード of the municipality answering")
    name: str = Field(description="the municipality's name")
    name_en: str = Field(description="the municipality's name in English")
    max_copies: int = Field(description="copies per order, every certificate together")
    certificates: dict[str, CertificateOffer] = Field(description="per certificate type")
    sealed: str = Field(
        description=(
            "the personal part (household members, tax years and kinds, My Number, detailed reasons),"
            " signed by the municipality and sealed to this terminal (base64url, koufu-offer/1,"
            " docs/protocol.md section 5.6)"
        )
    )


# -- orders (交付申請) ---------------------------------------------------------------------------


class OrderItem(BaseModel):
    certificate_type: str = Field(max_length=40)
    copies: int = Field(ge=1, le=50)
    options: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            "per certificate type (docs/protocol.md section 4.1.5): resident_record and"
            " resident_record_entries: members (null or 1-20 member ids), head_and_relationship,"
            " domicile, my_number (booleans); tax: kind (income, taxation, combined, payment) and"
            " tax_year (2000-2100), both required; family_register: scope (full or individual),"
            " required; family_register_attachment: domicile (boolean); seal_registration: none."
            " Anything else is invalid_order"
        ),
    )


class OrderRequest(BaseModel):
    idempotency_key: str = Field(
        pattern=r"^[A-Za-z0-9_-]{8,64}$",
        description="the terminal's key for this order: the same key is the same order",
    )
    printer: int = Field(ge=1, le=99)
    items: list[OrderItem] = Field(min_length=1, max_length=10)
    source: Literal["residence", "domicile"] = Field(
        default="residence",
        description=(
            "whose certificates: the resident's municipality's (residence), or the registered"
            " domicile's (domicile, 本籍地) the holder's usage registration routes to"
        ),
    )


class CopyResponse(BaseModel):
    issue_number: str
    pages: int
    fee: int
    sealed: str = Field(
        description="the copy, signed and sealed to this terminal's key (base64url): docs/protocol.md 5.3"
    )


class OrderResponse(BaseModel):
    order_id: str
    state: str
    fee: int | None = None
    reason: str | None = None
    copies: list[CopyResponse] = Field(default_factory=list)


class PrintedRequest(BaseModel):
    issue_numbers: list[str] = Field(min_length=1, max_length=100)


class SettleRequest(BaseModel):
    paid: int = Field(ge=0, le=1_000_000, description="yen taken from escrow into the cash box")


class VoidRequest(BaseModel):
    reason: str = Field(pattern=r"^[a-z_]{1,40}$", description="why, as a code: cancelled, print_timeout, …")


# -- the registered domicile (本籍地の利用登録) and the issuance record (交付履歴) -----------------

_B64URL = r"^[A-Za-z0-9_-]+$"


class RegistrationApplication(BaseModel):
    model_config = ConfigDict(extra="forbid")

    municipality: str = Field(
        pattern=r"^[0-9]{6}$", description="地方公共団体コード of the domicile municipality"
    )
    sealed: str = Field(
        min_length=1,
        max_length=32768,
        pattern=_B64URL,
        description=(
            "the application, the card's signature over it with its signing key and the signing"
            " certificate, sealed by the terminal to that municipality (base64url,"
            " koufu-to-municipality/1, docs/protocol.md section 3.2.1); relayed unread"
        ),
    )
    signing_ocsp_request: str = Field(
        min_length=1,
        max_length=1400,
        pattern=_B64URL,
        description=(
            "unpadded base64url of an OCSP request (RFC 6960, DER) about the signing certificate:"
            " one CertID, nothing else; the center forwards it to the JPKI authority and relays"
            " the answer to the municipality"
        ),
    )


class RegistrationResponse(BaseModel):
    municipality: str = Field(description="地方公共団体コード of the domicile municipality answering")
    name: str = Field(description="its name")
    name_en: str = Field(description="its name in English")
    sealed: str = Field(
        description=(
            "the registration's status, signed by the municipality and sealed to this terminal"
            " (base64url, koufu-registration/1, docs/protocol.md section 4.1.11)"
        )
    )


class SealedRecord(BaseModel):
    municipality: str = Field(description="地方公共団体コード of the municipality whose record it is")
    sealed: str = Field(
        description=(
            "the holder's issuances there in the last 12 months, signed by the municipality and"
            " sealed to this terminal (base64url, koufu-issuance-record/1)"
        )
    )


class IssuanceRecordResponse(BaseModel):
    records: list[SealedRecord] = Field(description="the residence municipality's first, then the domicile's")
    unavailable: list[str] = Field(description="the municipalities asked that could not answer now")


# -- the terminal itself -------------------------------------------------------------------------


class AlarmReport(BaseModel):
    causes: str = Field(
        pattern=r"^(door|tamper|door\+tamper|staff_code)$",
        description="what tripped: the door, the case, or wrong staff codes in a row",
    )
    state: str = Field(pattern=r"^(raised|cleared)$", description="raised, or cleared by staff")


class AlarmRecorded(BaseModel):
    causes: str
    state: str


# -- heartbeats (死活監視) -------------------------------------------------------------------------

PrinterState = Literal["ready", "paper_low", "paper_out", "toner_low", "jam", "offline", "error"]
ControllerState = Literal["up", "down", "absent"]
AlarmCauses = Literal["door", "tamper", "door+tamper"]
PRINTER_STATES: tuple[str, ...] = get_args(PrinterState)
CONTROLLER_STATES: tuple[str, ...] = get_args(ControllerState)
# the range a last session's time may be in at all (the center also refuses one in its future)
EARLIEST_SESSION = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
LATEST_SESSION = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)


class HeartbeatReport(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    build: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9.+_-]{0,39}$", description="the kiosk software's version"
    )
    config_hash: str = Field(
        pattern=r"^[0-9a-f]{64}$",
        description="lowercase hex SHA-256 of the kiosk's settings, without any secret (kiosk/config.py)",
    )
    printer: PrinterState = Field(
        description=(
            "the store printer: ready; paper_low and toner_low (it still prints); paper_out, jam,"
            " offline, error (any other fault: a cover open, toner empty): it cannot print"
        )
    )
    card_reader: bool = Field(description="the card reader is attached")
    controller: ControllerState = Field(
        description="the peripheral controller (coins, tray, door): up, down (not answering), absent (none)"
    )
    alarm: AlarmCauses | None = Field(description="the door or tamper alarm latched on the controller")
    change_owed: int = Field(ge=0, le=1_000_000, description="yen of change the hoppers could not pay")
    last_session_at: AwareDatetime | None = Field(
        description=(
            "when the last resident session ended, to the minute (seconds zero), null if none since"
            " the kiosk started; nothing else of it"
        )
    )

    @field_validator("last_session_at")
    @classmethod
    def _to_the_minute(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is None:
            return None
        if not EARLIEST_SESSION <= value < LATEST_SESSION:
            raise ValueError("not a time a session can have ended at")
        if value.second or value.microsecond:
            raise ValueError("to the minute: seconds and fractions are zero")
        return value.astimezone(dt.UTC)


class HeartbeatRecorded(BaseModel):
    received_at: dt.datetime = Field(description="the center's time of the heartbeat (UTC)")


# -- the participating municipalities (参加団体と封緘鍵) -------------------------------------------


class ParticipatingMunicipality(BaseModel):
    code: str = Field(pattern=r"^[0-9]{6}$", description="地方公共団体コード")
    statement: str = Field(
        max_length=2048,
        description=(
            "the municipality's statement of its sealing key (name, prefecture, P-256 key, not_after),"
            " a COSE_Sign1 by its signing key, base64url (koufu-sealing-key/1, docs/protocol.md"
            " section 6.5); relayed as the municipality gave it: a terminal verifies it against the"
            " municipal keys it trusts"
        ),
    )


class MunicipalitiesResponse(BaseModel):
    municipalities: list[ParticipatingMunicipality] = Field(
        description="the connected municipalities whose sealing key is known and unexpired, by code"
    )


# -- refusals ------------------------------------------------------------------------------------


class ErrorResponse(BaseModel):
    error: str
    message: str
    message_ja: str | None = None
    reopens_at: str | None = None
    order_id: str | None = Field(
        default=None, description="the order a refusal voided (to report its refund)"
    )
    state: str | None = Field(
        default=None,
        description=(
            "order_state and order_voided: the order's state as the refusal found it"
            " (docs/protocol.md section 4.3)"
        ),
    )
    sealed: str | None = Field(
        default=None,
        description=(
            "refused_by_municipality: the detailed reason (its code, the words in Japanese and"
            " English), sealed by the municipality to this terminal (base64url, koufu-refusal/3,"
            " docs/municipal.md); the center relays it unread and keeps only the generic code"
        ),
    )
    due: int | None = Field(
        default=None, description="wrong_amount: the yen due, the fees of the copies printed whole"
    )
