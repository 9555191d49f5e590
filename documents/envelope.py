"""A municipality's signed statement to one terminal's session, sealed so the center relays it
unread (封緘された通知): the offer's personal part (:mod:`documents.offer`) and the detailed reason
of a refusal (:mod:`documents.refusal`) travel this way.

The scheme is the copies' (:mod:`documents.sealing`): the statement is signed by the municipality
(a COSE_Sign1, :mod:`documents.cose`) and sealed with HPKE to the terminal's P-256 key
(:mod:`documents.hpke_seal`). Each kind of statement is a :class:`SealedForm`: its envelope's
format (also the statement's), the fields it is bound to, its lifetime and size.

Envelope (deterministic CBOR): ``format``, ``recipient``, ``enc``, ``ciphertext``; HPKE's ``info``:
the deterministic CBOR of the header ``{"format", "recipient"}``. Inside: the tagged COSE_Sign1's
bytes, whose payload is the deterministic CBOR map ``{"format", "municipality", "session_id",
"terminal_id", …binding fields, "issued_at", "content"}``. Opening checks the envelope, the
recipient, decryption, the signer (a trusted key of the statement's municipality, valid now), the
signature, every binding field against the kiosk's own session, and freshness, each failure a
typed :class:`~documents.errors.DocumentError`.
"""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from documents import cbor, cose
from documents.errors import (
    BindingMismatch,
    MalformedDocument,
    UntrustedSigner,
)
from documents.hpke_seal import check_terminal_key, open_envelope, read_envelope, seal_envelope
from documents.keys import MunicipalKey, TrustedKey

_HEADER = ("format", "recipient")
_ALWAYS = ("format", "municipality", "session_id", "terminal_id", "issued_at", "content")


@dataclass(frozen=True)
class SealedForm:
    """One kind of sealed statement: its ``name`` (in messages), its format, the fields it is
    bound to besides the session and terminal, how long it stays fresh and its largest size."""

    name: str
    format: str
    bound_to: tuple[str, ...]  # binding fields besides session_id and terminal_id
    lifetime: dt.timedelta
    max_bytes: int

    @property
    def fields(self) -> frozenset[str]:
        return frozenset((*_ALWAYS, *self.bound_to))


def seal_statement(
    form: SealedForm,
    content: Mapping[str, Any],
    *,
    key: MunicipalKey,
    session_id: str,
    terminal_id: str,
    bindings: Mapping[str, str],
    terminal_public_key: ec.EllipticCurvePublicKey,
    now: dt.datetime,
) -> bytes:
    """``content``, signed by the municipality and sealed to the terminal, bound to the session,
    the terminal and ``bindings`` (exactly the form's other binding fields)."""
    plaintext = signed_statement(
        form, content, key=key, session_id=session_id, terminal_id=terminal_id, bindings=bindings, now=now
    )
    header = {"format": form.format, "recipient": terminal_id}
    return seal_envelope(plaintext, header, terminal_public_key, max_bytes=form.max_bytes, what=form.name)


def signed_statement(
    form: SealedForm,
    content: Mapping[str, Any],
    *,
    key: MunicipalKey,
    session_id: str,
    terminal_id: str,
    bindings: Mapping[str, str],
    now: dt.datetime,
) -> bytes:
    """What the envelope carries (its plaintext): the statement in the municipality's
    COSE_Sign1, as its tagged bytes."""
    if set(bindings) != set(form.bound_to):
        raise ValueError(f"a {form.name} is bound to {sorted(form.bound_to)}")
    statement = {
        "format": form.format,
        "municipality": key.municipality,
        "session_id": session_id,
        "terminal_id": terminal_id,
        **bindings,
        "issued_at": now.astimezone(dt.UTC).isoformat(),
        "content": dict(content),
    }
    return cose.sign1(cbor.encode(statement), key.key_id, key.private_key).encoded()


def open_statement(
    form: SealedForm,
    sealed: bytes,
    *,
    terminal_id: str,
    terminal_key: ec.EllipticCurvePrivateKey,
    trust: Mapping[str, TrustedKey],
    session_id: str,
    bindings: Mapping[str, str],
    now: dt.datetime,
) -> dict[str, Any]:
    """The statement's content, if it is for this terminal, session and ``bindings``, signed by a
    trusted key of its municipality and fresh; else a :class:`~documents.errors.DocumentError`."""
    if set(bindings) != set(form.bound_to):
        raise ValueError(f"a {form.name} is bound to {sorted(form.bound_to)}")
    check_terminal_key(terminal_key)
    envelope = read_envelope(
        sealed, format=form.format, header_names=_HEADER, max_bytes=form.max_bytes, what=form.name
    )
    inner = open_envelope(envelope, terminal_id=terminal_id, terminal_key=terminal_key, what=form.name)
    signed = cose.read_sign1(inner, max_bytes=form.max_bytes, what=form.name)
    statement = cbor.decode(signed.payload, max_bytes=form.max_bytes, what=form.name)
    if type(statement) is not dict or statement.keys() != form.fields or statement["format"] != form.format:
        raise MalformedDocument(f"the sealed {form.name}'s content is not a {form.name}")
    try:
        cbor.check_plain(statement)
    except ValueError:
        raise MalformedDocument(f"the sealed {form.name} holds values that are not plain") from None
    trusted = trust.get(signed.key_id)
    if trusted is None or trusted.municipality != statement["municipality"] or not trusted.valid_at(now):
        raise UntrustedSigner(f"the {form.name}'s signer is not a trusted key of its municipality")
    signed.verify(trusted.public_key, what=form.name)
    for name, wanted in (("terminal_id", terminal_id), ("session_id", session_id), *bindings.items()):
        found = statement[name]
        if type(found) is not str or not hmac.compare_digest(found.encode(), wanted.encode()):
            raise BindingMismatch(name)
    try:
        issued = dt.datetime.fromisoformat(statement["issued_at"])
    except (TypeError, ValueError):
        raise MalformedDocument("issued_at is not a time") from None
    if issued.tzinfo is None or not dt.timedelta(minutes=-2) <= now - issued <= form.lifetime:
        raise MalformedDocument(f"the {form.name} is not fresh")
    content: dict[str, Any] = statement["content"] if type(statement["content"]) is dict else {}
    return content
