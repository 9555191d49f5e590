"""An ASGI application served over TLS on 127.0.0.1 by uvicorn in a thread of the test's process
(the municipality's and the console's, with the test's own clock): a socket bound first (its
port known before the application is made) and a server that stops with the block."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import uvicorn


def loopback_socket(*, backlog: int = 16, reuse_address: bool = False) -> socket.socket:
    """A TCP socket listening on 127.0.0.1, on a port the system chose."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    if reuse_address:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(backlog)
    return sock


@contextlib.contextmanager
def served_in_thread(
    app: Any, sock: socket.socket, certfile: Path, keyfile: Path, *, what: str, startup: float
) -> Iterator[None]:
    """``app`` served on ``sock`` with the TLS identity ``certfile``/``keyfile`` once started
    (``RuntimeError`` naming ``what`` if it does not start within ``startup`` seconds); stopped,
    its lifespan ended and ``sock`` closed when the block ends."""
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            ssl_certfile=str(certfile),
            ssl_keyfile=str(keyfile),
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=1,
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + startup
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the {what} did not start")
        time.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
