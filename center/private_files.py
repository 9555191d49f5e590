"""Files only their owner may read (秘密鍵・秘密情報のファイル): private keys, secrets, tokens.

:func:`write_private` is the one way the center, the municipal servers, the authority and the
development tools write such a file. Writing the bytes and then ``chmod 600`` leaves a moment in
which the file has the umask's mode (often 0644) and anyone on the machine may open it, and an
opened file stays readable after the ``chmod``. Here the bytes go into a new file that is 0600
before its first byte, which then replaces the path in one rename: a reader sees the old file or
the whole new one, and a file that was wider before is not left so (the name now points at the
new file).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

PRIVATE_MODE = 0o600


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path``, readable and writable by its owner only, whatever the umask."""
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(descriptor, PRIVATE_MODE)  # mkstemp's 0600 less the umask: exactly 0600
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
