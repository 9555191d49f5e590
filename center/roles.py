"""The roles a center process group serves (``koufu center serve --role``), and how its worker
processes learn theirs: ``all`` (every route: the center), or ``heartbeats`` (``POST
/v1/heartbeats`` and ``GET /v1/health`` only; :func:`center.app.create_app`)."""

from __future__ import annotations

ROLES = ("all", "heartbeats")
ROLE_VARIABLE = "KOUFU_CENTER_ROLE"  # the role of center.app.app_from_environment's processes
