"""The operators' console as operators run it: a ``koufu center console`` process of its own on
the center's directory, serving over TLS on its own port (never the terminal API's). Browsers and
clients reach it as ``https://localhost:PORT``, its origin without a ``console.json``."""

from __future__ import annotations

import contextlib
import ssl
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from devtools.stack import free_port
from support.waiting import eventually

STARTUP = 60.0  # seconds the process may take to answer (a bound on waiting, not a measurement)


@dataclass(frozen=True)
class ConsoleProcess:
    url: str  # https://localhost:PORT, the origin
    port: int
    tls: ssl.SSLContext  # trusts the center's certificate, which the console serves
    log: Path
    process: subprocess.Popen[bytes]


@contextlib.contextmanager
def console_process(directory: Path, log: Path, port: int | None = None) -> Iterator[ConsoleProcess]:
    """``koufu center console --dir directory`` on ``port`` (else a free one), its output in
    ``log``, once it answers its sign-in page; ended when the block ends."""
    port = port or free_port()
    command = ["center", "console", "--dir", str(directory), "--port", str(port)]
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "koufu.cli", *command],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"https://localhost:{port}"
        tls = ssl.create_default_context(cafile=str(directory / "tls.crt"))

        def answers() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"the console exited: {log.read_text(errors='replace')[-2000:]}")
            try:
                return httpx.get(f"{url}/sign-in", verify=tls, timeout=5).status_code == 200
            except httpx.TransportError:
                return False

        eventually(answers, "the console answers over TLS", STARTUP)
        yield ConsoleProcess(url, port, tls, log, process)
    finally:
        process.terminate()
        process.wait(timeout=20)
