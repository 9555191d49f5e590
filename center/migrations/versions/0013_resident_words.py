"""Words for residents made plain in the stored calendar (利用者向けの文言): since this revision
a calendar's words (a maintenance window's, a municipal stop's, a suspension's ``message``) are
one line of plain text of at most 160 characters (``documents.basics``), which the calendar's
reader refuses otherwise. A calendar stored before, under the looser rule, would then no longer
load, and every center process would refuse every request until someone stored a new one; so
its words are folded to the rule here: characters that are not plain text on one line become
spaces, ``<`` and ``>`` go, runs of spaces become one, the ends are trimmed and the words cut
at 160 characters; words with nothing left are dropped (the kiosk says the closure in its own
words). Nothing else of the document changes. Going back leaves the words as they are: they
are valid under the older rule too.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"

MOST = 160  # documents.basics.RESIDENT_WORDS_MAX when this revision was written
_NOT_PLAIN = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def plain_words(text: str) -> str:
    """``text`` folded to one plain line of at most :data:`MOST` characters ("" if nothing is left)."""
    kept = "".join(
        " " if unicodedata.category(char) in _NOT_PLAIN else char for char in text if char not in "<>"
    )
    return " ".join(kept.split())[:MOST].strip()


def folded(node: Any) -> Any:
    """The calendar document ``node`` with every ``message`` folded (a message left with no words
    in either language dropped)."""
    if isinstance(node, list):
        return [folded(item) for item in node]
    if not isinstance(node, dict):
        return node
    result = {key: folded(value) for key, value in node.items() if key != "message"}
    message = node.get("message")
    if isinstance(message, dict) and all(isinstance(message.get(key), str) for key in ("ja", "en")):
        words = {key: plain_words(message[key]) for key in ("ja", "en")}
        if all(words.values()):
            result["message"] = {**message, **words}
    elif "message" in node:
        result["message"] = message
    return result


def upgrade() -> None:
    connection = op.get_bind()
    calendar = sa.table("service_calendar", sa.column("id"), sa.column("document"))
    for ident, document in connection.execute(sa.select(calendar.c.id, calendar.c.document)).all():
        try:
            data = json.loads(document)
        except ValueError:
            continue  # not this revision's to mend: the reader says what is wrong with it
        changed = json.dumps(folded(data), ensure_ascii=False, sort_keys=True)
        if changed != json.dumps(data, ensure_ascii=False, sort_keys=True):
            connection.execute(calendar.update().where(calendar.c.id == ident).values(document=changed))


def downgrade() -> None:
    """Nothing to undo: the folded words are valid under the older rule too."""
