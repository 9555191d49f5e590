"""The heartbeat a terminal sends when all is well, as the tests use it: on the wire (``REPORT``,
the JSON object of ``POST /v1/heartbeats``) and as the center keeps it (``READY``)."""

from __future__ import annotations

from typing import Any

from center.heartbeats import Heartbeat

REPORT: dict[str, Any] = {
    "build": "0.1.0",
    "config_hash": "0f" * 32,
    "printer": "ready",
    "card_reader": True,
    "controller": "up",
    "alarm": None,
    "change_owed": 0,
    "last_session_at": None,
}
READY = Heartbeat(
    build="0.1.0",
    config_hash="ab" * 32,
    printer="ready",
    card_reader=True,
    controller="up",
    alarm=None,
    change_owed=0,
    last_session_at=None,
)
