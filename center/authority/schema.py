"""The authority's tables (SQLAlchemy Core), shared by the store and the Alembic migrations.

Privacy by construction: a certificate row holds its serial, which CA generation issued it, its
validity, the 地方公共団体コード of the municipality it belongs to, revocation and the links to the
certificates it renewed. Never a name, address, birth date, sex or My Number, and never the
certificate itself (the signing certificate carries the four facts). Beside it, the OCSP answer
last produced for it (serial, status, times, the CA's signature: nothing about the person), so
the responder answers most requests without signing. Verifier tokens are stored as SHA-256
digests only.

Every name starts with ``jpki_`` so the authority can share a PostgreSQL database with the center.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
)

from center.store.types import NAMING_CONVENTION, UtcDateTime

VERSION_TABLE = "jpki_alembic_version"

metadata = MetaData(naming_convention=NAMING_CONVENTION)


certificates = Table(
    "jpki_certificates",
    metadata,
    Column("serial", BigInteger, primary_key=True, autoincrement=False),
    Column("ca_kind", String(16), nullable=False),
    Column("generation", Integer, nullable=False),
    Column("municipality", String(6), nullable=False),
    Column("not_before", UtcDateTime, nullable=False),
    Column("not_after", UtcDateTime, nullable=False),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
    Column("revocation_reason", String(32), nullable=True),
    Column(
        "previous_serial",
        BigInteger,
        ForeignKey("jpki_certificates.serial"),
        nullable=True,
        unique=True,  # a certificate is renewed at most once
    ),
    # every serial this one renewed, newest first, at most 16, as decimal numbers separated by
    # spaces (NULL: none); fixed at issuance, stated in every OCSP answer (koufuPreviousSerials)
    Column("previous_serials", String(400), nullable=True),
    # the pre-produced OCSP answer (RFC 5019) for a SHA-1 CertID without nonce, and its
    # thisUpdate; cleared by every change of status in the same statement
    Column("ocsp_response", LargeBinary, nullable=True),
    Column("ocsp_produced_at", UtcDateTime, nullable=True),
    CheckConstraint("ca_kind IN ('user-auth', 'signing')", name="ca_kind"),
    CheckConstraint("length(municipality) = 6", name="municipality"),
    CheckConstraint("(revoked_at IS NULL) = (revocation_reason IS NULL)", name="revocation"),
    CheckConstraint("serial > 0", name="serial"),
)
Index(
    "ix_jpki_certificates_crl", certificates.c.ca_kind, certificates.c.generation, certificates.c.revoked_at
)

verifiers = Table(
    "jpki_verifiers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("token_hash", LargeBinary(32), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
)

crls = Table(
    "jpki_crls",
    metadata,
    Column("ca_kind", String(16), primary_key=True),
    Column("generation", Integer, primary_key=True),
    Column("number", Integer, nullable=False),
    Column("this_update", UtcDateTime, nullable=False),
    Column("next_update", UtcDateTime, nullable=False),
    Column("content_digest", LargeBinary(32), nullable=False),
    Column("der", LargeBinary, nullable=False),
)
