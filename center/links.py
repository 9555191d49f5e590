"""What every client of the stack's servers shares about a connection that breaks (the center's
clients of the authority and of the municipalities, a terminal's client of the center).

The servers (``center.web``) close a connection idle for :data:`SERVER_KEEP_ALIVE`; a client
keeps one idle for :data:`KEEP_ALIVE`, a second less, so it never reuses a connection just as the
server closes it. A connection that could not be opened is opened again (nothing was sent), in
:data:`ATTEMPTS` tries in all, :func:`pause_before` apart; ``docs/decisions.md`` says which
requests are also sent again after a connection broke, and why that is safe.
"""

from __future__ import annotations

import httpx

SERVER_KEEP_ALIVE = 5  # seconds: uvicorn's timeout_keep_alive, set by center.web
KEEP_ALIVE = SERVER_KEEP_ALIVE - 1.0  # seconds
ATTEMPTS = 3  # tries of one request in all
PAUSE = 0.05  # seconds, before the second try after a connection that could not be opened
# httpx's pools: kept-alive connections for first tries, connections used once for a request sent again
KEPT_ALIVE = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=KEEP_ALIVE)
USED_ONCE = httpx.Limits(max_connections=100, max_keepalive_connections=0)


def pause_before(attempt: int) -> float:
    """How long to wait after try ``attempt`` (1, 2…) found no connection: twice as long each time."""
    return PAUSE * float(2 ** (attempt - 1))
