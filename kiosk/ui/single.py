"""One kiosk app per machine: an exclusive lock on a file in the runtime directory (fcntl), held
for as long as the app runs and released by the kernel when the process ends."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kiosk.ui.environment import private_dir

LOCK_NAME = "kiosk.lock"


class AlreadyRunning(RuntimeError):
    """Another kiosk app holds the lock."""


@contextmanager
def only_instance(runtime: Path) -> Iterator[Path]:
    path = private_dir(runtime) / LOCK_NAME
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AlreadyRunning(f"another kiosk app is running (it holds {path})") from None
        os.ftruncate(descriptor, 0)
        os.write(descriptor, f"{os.getpid()}\n".encode())
        yield path
    finally:
        os.close(descriptor)
