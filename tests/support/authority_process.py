"""``koufu authority serve`` as its own process over TLS on 127.0.0.1 (a port the system chose),
on an authority directory the test shares (its SQLite database too), its output in a log file."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

LISTENING = "authority listening on "
STARTUP = 60.0  # seconds the server may take to start (a bound on waiting, not a measurement)


@contextlib.contextmanager
def serving_authority(directory: Path, certfile: Path, keyfile: Path, log: Path) -> Iterator[str]:
    """The server on ``directory`` with the TLS identity ``certfile``/``keyfile``: its URL once
    it says it listens (the test fails with its log if it does not); terminated after the block."""
    env = {key: value for key, value in os.environ.items() if key != "KOUFU_AUTHORITY_DB"}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "koufu",
                "authority",
                "serve",
                "--dir",
                str(directory),
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--tls-cert",
                str(certfile),
                "--tls-key",
                str(keyfile),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**env, "PYTHONUNBUFFERED": "1"},
        )
    try:
        yield _listening(log, process)
    finally:
        process.terminate()
        process.wait(timeout=30)


def _listening(log: Path, process: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + STARTUP
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        for line in text.splitlines():
            if line.startswith(LISTENING):
                return line.removeprefix(LISTENING).strip()
        if process.poll() is not None:
            pytest.fail(f"the authority server exited:\n{text}")
        time.sleep(0.02)
    pytest.fail(f"the authority server did not start:\n{log.read_text(errors='replace')}")
