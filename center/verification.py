"""Public verification of a printed copy (証明書の真正性確認): anyone holding a page can ask,
with the issue number and the verification code printed on it, whether it is a genuine copy
and whether it still stands. The answer says nothing about the person: the municipality, the
day of issue, the number of pages and the copy's status.

The center keeps each copy's record as it relays it (``order_copies``: the certificate store):
the content hash and a digest of the code, never the code or the content. A wrong code and an
unknown number get the same answer, so the endpoint cannot be used to find which numbers exist.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from enum import StrEnum

from center.store.driver import Database, Sql, stored_time
from documents import JST, BadIssueNumber, BadVerificationCode, IssueNumber, code_digest


class CopyStatus(StrEnum):
    VALID = "valid"  # issued and printed, not voided
    VOIDED = "voided"  # the order was cancelled, or the copy did not come out whole: not to be relied on
    NOT_PRINTED = "not_printed"  # issued, never (yet) reported printed
    UNKNOWN = "unknown"  # no such copy, or not this code


@dataclass(frozen=True)
class Verification:
    issue_number: str
    status: CopyStatus
    municipality: str | None = None
    issued_on: str | None = None  # YYYY-MM-DD in Japan
    pages: int | None = None
    content_hash: str | None = None  # what a scanned document's hash must equal


_COPY = Sql(
    "SELECT c.code_hash, c.pages, c.printed_at, c.content_hash, o.state, o.municipality, o.created_at "
    "FROM order_copies c JOIN orders o ON o.id = c.order_id WHERE c.issue_number = :issue_number"
)


def copy_number(text: str) -> str:
    """The copy's issue number from what is printed (the copy's or a page's); ValueError if none."""
    try:
        return IssueNumber.parse(text).text
    except BadIssueNumber:
        pass
    try:
        return IssueNumber.parse_page(text)[0].text
    except BadIssueNumber:
        raise ValueError("not an issue number") from None


async def verify(database: Database, issue_number: str, code: str) -> Verification:
    """What the store knows of this copy; ``ValueError`` when the number or the code is not one."""
    if len(issue_number) > 80 or len(code) > 64:
        raise ValueError("too long for an issue number or a verification code")
    number = copy_number(issue_number)
    try:
        digest = code_digest(code)
    except BadVerificationCode:
        raise ValueError("not a verification code") from None
    async with database.connection() as connection:
        row = await connection.one(_COPY, {"issue_number": number})
    if row is None or not hmac.compare_digest(row["code_hash"], digest):
        return Verification(number, CopyStatus.UNKNOWN)
    if row["state"] in ("voided", "refunded"):
        status = CopyStatus.VOIDED
    elif row["state"] in ("printed", "settled") and row["printed_at"] is None:
        status = CopyStatus.VOIDED  # its order was printed without it: it did not come out whole
    elif row["printed_at"] is not None:
        status = CopyStatus.VALID
    else:
        status = CopyStatus.NOT_PRINTED
    issued_on = stored_time(row["created_at"]).astimezone(JST).date().isoformat()
    return Verification(number, status, row["municipality"], issued_on, row["pages"], row["content_hash"])
