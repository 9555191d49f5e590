"""What the web applications (the center's, the authority's, a municipality's) share about their
framework: how they are served, and what they do not do.

FastAPI (0.165 and later) instruments every request with OpenTelemetry when its API is
installed: spans, metrics and error logs, and on each request a look at the environment and at
the global providers. The center exports none of it: its decisions go to its own audit log and
its operational lines to its logger, and nothing about a request leaves the machine unless an
operator decides so. Off, it costs nothing per request.
"""

from __future__ import annotations

import copy
import socket
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn
from fastapi.telemetry import TelemetryConfig

from center.links import SERVER_KEEP_ALIVE

NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}
# On SIGTERM, requests in flight get this long to finish; idle keep-alive TLS connections would
# otherwise hold the exit for asyncio's 30 s TLS shutdown (idle clients never send close_notify).
GRACEFUL_SHUTDOWN = 2  # seconds


def serve_app(
    app: Any,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    tls_cert: Path | None = None,
    tls_key: Path | None = None,
    ready: Callable[[str], None] = print,
    log_level: str = "info",
) -> None:
    """Run ``app`` under uvicorn until SIGINT/SIGTERM; ``ready`` gets the base URL first.

    The socket is bound here, so ``port=0`` picks a free port and the URL names the real one.
    """
    if (tls_cert is None) != (tls_key is None):
        raise ValueError("give both --tls-cert and --tls-key, or neither")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say so, and without
    # it every response waits ~40 ms for a delayed ACK (Nagle)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    if tls_cert is not None:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(tls_cert, tls_key)
    # uvicorn writes its access log to stdout; it goes to stderr with every other line here, so a
    # parent that reads only the "listening on" line from stdout (devtools.stack) can never block
    # the server on a full pipe under load
    log_config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    log_config["handlers"]["access"]["stream"] = "ext://sys.stderr"
    config = uvicorn.Config(
        app,
        ssl_certfile=tls_cert,
        ssl_keyfile=tls_key,
        log_level=log_level,
        log_config=log_config,
        lifespan="on",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN,
        timeout_keep_alive=SERVER_KEEP_ALIVE,
    )
    bound = sock.getsockname()[1]
    scheme = "https" if tls_cert else "http"
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    ready(f"{scheme}://{shown}:{bound}")
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
