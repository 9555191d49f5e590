"""A municipality's record stores (SQLAlchemy Core), shared by its issuance server and its
Alembic migrations.

The real systems are separate (住民記録システム, 印鑑登録システム, 税務システム, 戸籍情報システム);
a municipal issuance server (証明書交付サーバ) reads them through its own bridge. Here they are
tables of one database per municipality, so the simulator runs on one machine:

- ``households`` / ``residents``: the resident register (住民基本台帳): each person's names in
  kanji and kana, birth date, sex, relationship to the head (続柄), address, registered domicile
  and its head (本籍・筆頭者), My Number (個人番号; printed only where allowed, never a key),
  status (resident, move-out filed, moved out, deceased) and, for foreign residents, nationality,
  residence card number, status and period of stay (在留資格・在留期間).
- ``card_links``: user-authentication certificate serial → resident (住基ネット gives the serial;
  it is how an order finds its resident). A link is usable from the day after it was made.
- ``seal_registrations`` (印鑑登録), ``tax_assessments`` (課税・所得, by tax year), ``family_registers``
  (戸籍) with their ``register_members`` and the address history of each member (戸籍の附票,
  ``register_addresses``).
- ``issuance_blocks``: issuance stops (交付停止) and protection measures (支援措置): while one is in
  force, nothing is issued about that person.
- ``issuance_history`` (交付履歴): every copy issued, with what the standard asks for (date and time,
  place, person, type, printed items, pages, issue number, terminal, requester) and the disposal of
  a voided copy, and the sealed copy as sent (a retried request gets the same copies, never new
  ones). ``issue_requests``: each order once, with the hash of what it asked.
  ``issue_sequences``: the per-day sequence of issue numbers.
- ``center_nonces``: the nonces of the center's signed requests already seen (no replay).
- ``domicile_registrations`` (本籍地の利用登録): residents of other municipalities whose family
  register is here, registered for its certificates at convenience stores: the register entry the
  application matched (nothing of what the applicant typed), the status and its decision; and
  ``domicile_registration_serials``: the certificate serials a live registration is known by (the
  one it was applied with, later a renewed card's). See :mod:`center.municipal.registrations`.

Dates of the register (birth, moves, periods) are calendar dates; instants are aware UTC.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from center.store.types import NAMING_CONVENTION, UtcDateTime

VERSION_TABLE = "municipal_alembic_version"

metadata = MetaData(naming_convention=NAMING_CONVENTION)

RESIDENT_STATUSES = ("resident", "moving_out", "moved_out", "deceased")
BLOCK_KINDS = ("issuance_stop", "protection_measure")
REGISTER_STATUSES = ("current", "closed", "pre_revision")  # 現在戸籍, 除籍, 改製原戸籍
COPY_STATUSES = ("issued", "printed", "voided")
REGISTRATION_STATUSES = ("pending", "approved", "denied", "suspended")
DENIAL_REASONS = ("not_matched", "register_closed", "duplicate", "other")
RULE = "rule"  # decided_by of a registration the business-day rule approved (or a match refused)

settings = Table(
    "settings",
    metadata,
    Column("name", String(32), primary_key=True),  # "municipality": the one configuration document
    Column("document", Text, nullable=False),  # JSON, see settings.py
    Column("updated_at", UtcDateTime, nullable=False),
)

households = Table(
    "households",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("address", Text, nullable=False),  # 住所, as printed (full-width numbers)
    Column("address_kana", Text, nullable=True),
)

residents = Table(
    "residents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("household_id", Integer, ForeignKey("households.id"), nullable=False),
    Column("family_name", Text, nullable=False),  # 氏
    Column("given_name", Text, nullable=False),  # 名
    Column("family_name_kana", Text, nullable=False),
    Column("given_name_kana", Text, nullable=False),
    Column("birth_date", Date, nullable=False),
    Column("sex", String(6), nullable=False),
    Column("relationship", Text, nullable=False),  # 続柄 to the head of household: 世帯主, 妻, 子…
    Column("became_resident_on", Date, nullable=False),  # 住民となった日
    Column("moved_in_on", Date, nullable=False),  # 住所を定めた日
    Column("previous_address", Text, nullable=True),  # 前住所
    Column("domicile", Text, nullable=True),  # 本籍 (none for a foreign resident)
    Column("domicile_head", Text, nullable=True),  # 筆頭者
    Column("my_number", String(12), nullable=True, unique=True),  # 個人番号: printed where allowed only
    Column("status", String(12), nullable=False),
    Column("status_on", Date, nullable=True),  # the day of the move-out, its filing, or of death
    Column("foreign_resident", Boolean, nullable=False),
    Column("alias", Text, nullable=True),  # 通称
    Column("nationality", Text, nullable=True),  # 国籍・地域
    Column("residence_card_number", String(12), nullable=True),  # 在留カード等の番号
    Column("residence_status", Text, nullable=True),  # 在留資格
    Column("residence_period_until", Date, nullable=True),  # 在留期間の満了の日
    Column("pending_characters", Boolean, nullable=False),  # a name or address awaiting 外字 work
    Column("register_id", Integer, ForeignKey("family_registers.id"), nullable=True),  # 戸籍 here
    CheckConstraint(f"status IN {RESIDENT_STATUSES!r}", name="status"),
    CheckConstraint("sex IN ('male', 'female')", name="sex"),
    CheckConstraint("(status = 'resident') = (status_on IS NULL)", name="status_on"),
    CheckConstraint("foreign_resident = (nationality IS NOT NULL)", name="foreign"),
)
Index("ix_residents_household", residents.c.household_id)

card_links = Table(
    "card_links",
    metadata,
    Column("certificate_serial", BigInteger, primary_key=True, autoincrement=False),
    Column("resident_id", Integer, ForeignKey("residents.id"), nullable=False),
    Column("linked_at", UtcDateTime, nullable=False),  # usable from the next day (JST)
    CheckConstraint("certificate_serial > 0", name="serial"),
)
Index("ix_card_links_resident", card_links.c.resident_id)

seal_registrations = Table(
    "seal_registrations",
    metadata,
    Column("resident_id", Integer, ForeignKey("residents.id"), primary_key=True),
    Column("registration_number", String(16), nullable=False, unique=True),  # 印鑑登録番号
    Column("impression", Text, nullable=False),  # the characters of the seal (印影), as registered
    Column("registered_on", Date, nullable=False),
)

tax_assessments = Table(
    "tax_assessments",
    metadata,
    Column("resident_id", Integer, ForeignKey("residents.id"), primary_key=True),
    Column("tax_year", Integer, primary_key=True),  # 年度 (the income is of the year before)
    Column("resident_on_january_1", Boolean, nullable=False),  # 賦課期日に住所があったか
    Column("filed", Boolean, nullable=False),  # 申告済み
    Column("total_income", Integer, nullable=False),  # 総所得金額 (yen)
    Column("deductions", Integer, nullable=False),  # 所得控除の合計
    Column("taxable_income", Integer, nullable=False),  # 課税標準額
    Column("municipal_tax", Integer, nullable=False),  # 市町村民税 所得割+均等割
    Column("prefectural_tax", Integer, nullable=False),  # 道府県民税
    Column("paid", Integer, nullable=False),  # 納付済額
    Column("outstanding", Integer, nullable=False),  # 未納額
    CheckConstraint("tax_year BETWEEN 2000 AND 2100", name="year"),
)

family_registers = Table(
    "family_registers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("domicile", Text, nullable=False),  # 本籍
    Column("head_name", Text, nullable=False),  # 筆頭者氏名
    Column("status", String(12), nullable=False),
    Column("compiled_on", Date, nullable=False),  # 編製日
    Column("filing_pending_since", Date, nullable=True),  # a filing not yet entered: no issuance
    CheckConstraint(f"status IN {REGISTER_STATUSES!r}", name="status"),
)

register_members = Table(
    "register_members",
    metadata,
    Column("register_id", Integer, ForeignKey("family_registers.id"), primary_key=True),
    Column("position", Integer, primary_key=True),  # order in the register, the head first
    Column("resident_id", Integer, ForeignKey("residents.id"), nullable=True),  # if resident here
    Column("family_name", Text, nullable=False),
    Column("given_name", Text, nullable=False),
    Column("birth_date", Date, nullable=False),
    Column("sex", String(6), nullable=False),
    Column("father", Text, nullable=True),
    Column("mother", Text, nullable=True),
    Column("relationship", Text, nullable=False),  # 続柄 in the register: 長男, 二女, 妻…
    Column("events", Text, nullable=False),  # JSON: [{"kind": "birth", "date": ..., "detail": ...}]
    Column("removed", Boolean, nullable=False),  # 除籍 (left by marriage, death…)
    CheckConstraint("sex IN ('male', 'female')", name="sex"),
)
Index("ix_register_members_resident", register_members.c.resident_id)
Index("ix_register_members_birth_date", register_members.c.birth_date)  # an applicant's match

register_addresses = Table(
    "register_addresses",
    metadata,
    Column("register_id", Integer, primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("address", Text, nullable=False),
    Column("from_date", Date, nullable=False),  # 住所を定めた日
    Column("to_date", Date, nullable=True),
    # each address line belongs to one member of the register
    UniqueConstraint("register_id", "position", "from_date"),
)

issuance_blocks = Table(
    "issuance_blocks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("resident_id", Integer, ForeignKey("residents.id"), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("starts_at", UtcDateTime, nullable=False),
    Column("ends_at", UtcDateTime, nullable=True),  # open-ended until lifted
    CheckConstraint(f"kind IN {BLOCK_KINDS!r}", name="kind"),
)
Index("ix_issuance_blocks_resident", issuance_blocks.c.resident_id)

issue_sequences = Table(
    "issue_sequences",
    metadata,
    Column("day", Date, primary_key=True),  # the issuing day in Japan
    Column("last", Integer, nullable=False),
)

issue_requests = Table(
    "issue_requests",
    metadata,
    Column("order_id", String(40), primary_key=True),
    Column("request_hash", String(64), nullable=False),  # the same order asked again must be the same
    Column("received_at", UtcDateTime, nullable=False),
)

issuance_history = Table(
    "issuance_history",
    metadata,
    Column("issue_number", String(64), primary_key=True),  # the copy's 交付番号 (without page)
    Column("issued_at", UtcDateTime, nullable=False),
    Column("order_id", String(40), ForeignKey("issue_requests.order_id"), nullable=False),
    Column("item", Integer, nullable=False),  # which item of the order
    Column("copy", Integer, nullable=False),  # which copy of the item (1…)
    Column("session_id", String(40), nullable=False),
    Column("terminal_id", String(32), nullable=False),
    Column("store", Text, nullable=False),  # the place (店舗)
    Column("printer", Integer, nullable=False),
    # whose card: a resident here, or a holder known by their usage registration (本籍地の利用登録)
    Column("requester_id", Integer, ForeignKey("residents.id"), nullable=True),
    Column("registration_id", String(32), ForeignKey("domicile_registrations.id"), nullable=True),
    Column("certificate_type", String(32), nullable=False),
    Column("subjects", Text, nullable=False),  # JSON: ids of the persons whose data is printed
    Column("printed_items", Text, nullable=False),  # JSON: the options chosen
    Column("pages", Integer, nullable=False),
    Column("fee", Integer, nullable=False),  # yen
    Column("content_hash", String(64), nullable=False),
    Column("code_hash", String(64), nullable=False),  # of the verification code printed on it
    Column("status", String(8), nullable=False),
    Column("status_at", UtcDateTime, nullable=False),
    Column("disposal", Text, nullable=True),  # why a copy was voided (廃棄の記録)
    Column("sealed", LargeBinary, nullable=False),  # as sent: encrypted to the terminal, signed
    CheckConstraint(f"status IN {COPY_STATUSES!r}", name="status"),
    CheckConstraint("(requester_id IS NULL) <> (registration_id IS NULL)", name="requester"),
    UniqueConstraint("order_id", "item", "copy"),  # one copy per order item and number: no double issue
)
# a holder's own record (交付履歴の確認): their copies, newest first
Index("ix_issuance_history_requester", issuance_history.c.requester_id, issuance_history.c.issued_at)
Index("ix_issuance_history_registration", issuance_history.c.registration_id, issuance_history.c.issued_at)

accepted_proofs = Table(
    "accepted_proofs",  # the card proofs this municipality accepted: each serves its own session only
    metadata,
    Column("proof", String(64), primary_key=True),  # SHA-256 of the card's signature
    Column("session_id", String(64), nullable=False),
    Column("terminal_id", String(32), nullable=False),
    Column("first_at", UtcDateTime, nullable=False),
    Column("kept_until", UtcDateTime, nullable=False),  # the certificate's end: no use of it after
)

center_nonces = Table(
    "center_nonces",
    metadata,
    Column("nonce", String(32), primary_key=True),
    Column("seen_at", UtcDateTime, nullable=False),
)

domicile_registrations = Table(
    "domicile_registrations",  # 本籍地の利用登録: one application and its decision
    metadata,
    Column("id", String(32), primary_key=True),  # opaque, random (shown to the staff, told the kiosk)
    Column("certificate_serial", BigInteger, nullable=False),  # the card it was applied with
    Column("register_id", Integer, nullable=True),  # the entry matched (none: refused at once)
    Column("position", Integer, nullable=True),
    Column("status", String(10), nullable=False),
    Column("applied_at", UtcDateTime, nullable=False),
    Column("approves_at", UtcDateTime, nullable=True),  # by the business-day rule (none: refused at once)
    Column("decided_at", UtcDateTime, nullable=True),  # approval or denial
    Column("decided_by", String(64), nullable=True),  # a staff member's name, or 'rule'
    Column("denial_reason", String(16), nullable=True),
    Column("suspended_at", UtcDateTime, nullable=True),
    ForeignKeyConstraint(
        ["register_id", "position"], ["register_members.register_id", "register_members.position"]
    ),
    CheckConstraint(f"status IN {REGISTRATION_STATUSES!r}", name="status"),
    CheckConstraint(f"denial_reason IN {DENIAL_REASONS!r}", name="denial_reason"),
    CheckConstraint("(status = 'denied') = (denial_reason IS NOT NULL)", name="denied"),
    CheckConstraint("(register_id IS NULL) = (position IS NULL)", name="entry"),
    CheckConstraint("register_id IS NOT NULL OR status = 'denied'", name="matched"),
    CheckConstraint("(status = 'suspended') = (suspended_at IS NOT NULL)", name="suspended"),
    CheckConstraint("(decided_at IS NULL) = (decided_by IS NULL)", name="decided"),
    CheckConstraint("certificate_serial > 0", name="serial"),
)
Index("ix_domicile_registrations_status", domicile_registrations.c.status)
Index(
    "ix_domicile_registrations_entry",
    domicile_registrations.c.register_id,
    domicile_registrations.c.position,
)

domicile_registration_serials = Table(
    "domicile_registration_serials",  # the serials a live (not denied) registration is known by
    metadata,
    Column("certificate_serial", BigInteger, primary_key=True, autoincrement=False),
    Column("registration_id", String(32), ForeignKey("domicile_registrations.id"), nullable=False),
    Column("linked_at", UtcDateTime, nullable=False),
    CheckConstraint("certificate_serial > 0", name="serial"),
)
Index("ix_domicile_registration_serials_registration", domicile_registration_serials.c.registration_id)
