"""The center's audit log as the end-to-end tests read it, from the stack's own database."""

from __future__ import annotations

import sqlalchemy as sa

from center.config import CenterConfig
from center.store.engine import make_engine
from center.store.tables import audit_log
from devtools.stack import DevStack


def alarms_audited(stack: DevStack, terminal_id: str) -> list[tuple[str, str]]:
    """The terminal's alarm lines in the center's audit log, oldest first: (outcome, causes)."""
    engine = make_engine(CenterConfig.load(stack.center_dir).database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.select(audit_log.c.outcome, audit_log.c.reason)
                .where(audit_log.c.event == "terminal_alarm", audit_log.c.terminal_id == terminal_id)
                .order_by(audit_log.c.seq)
            ).all()
    finally:
        engine.dispose()
    return [(row.outcome, row.reason) for row in rows]


def lines_of(config: CenterConfig, event: str) -> list[sa.Row[tuple[object, ...]]]:
    """Every line of ``event`` in the audit log of the center ``config``, oldest first."""
    engine = make_engine(config.database_url)
    try:
        with engine.connect() as connection:
            return list(
                connection.execute(
                    sa.select(audit_log).where(audit_log.c.event == event).order_by(audit_log.c.seq)
                )
            )
    finally:
        engine.dispose()
