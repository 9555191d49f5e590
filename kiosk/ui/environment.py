"""Where Kivy may write, set before Kivy is first imported, and the kiosk app's runtime directory.

Kivy reads its environment once, when ``kivy`` is imported: ``KIVY_NO_FILELOG`` keeps its log
file off, ``KIVY_NO_ARGS`` keeps it from reading the app's command line, ``KIVY_LOG_MODE=MIXED``
keeps its handlers on its own logger (the app's logging is the app's), and ``KIVY_HOME`` points
at a private directory (mode 0700) instead of ``~/.kivy``.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path


class RuntimeDirError(RuntimeError):
    """The runtime directory exists but is not ours alone."""


def default_runtime_dir() -> Path:
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    return Path(base) / f"koufu-kiosk-{os.getuid()}"


def quiet_kivy(runtime: Path | None = None) -> None:
    """Kivy's environment; with ``runtime``, its home goes there (before Kivy is imported)."""
    os.environ["KIVY_NO_FILELOG"] = "1"
    os.environ["KIVY_NO_ARGS"] = "1"
    os.environ.setdefault("KIVY_LOG_MODE", "MIXED")
    if runtime is None and "KIVY_HOME" in os.environ:
        return
    if "kivy" in sys.modules:
        raise RuntimeError("Kivy was imported before its environment was set")
    os.environ["KIVY_HOME"] = str(private_dir(runtime or default_runtime_dir()) / "kivy")


def private_dir(path: Path) -> Path:
    """``path`` as a directory only this user can read (created if missing)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    status = path.stat()
    if status.st_uid != os.getuid() or status.st_mode & 0o077:
        raise RuntimeDirError(f"{path} must belong to this user alone (mode 0700)")
    return path
