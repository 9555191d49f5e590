"""TLS trust for the center's HTTP clients."""

from __future__ import annotations

import ssl


def trust(verify: str | bool) -> ssl.SSLContext | bool:
    """``True``: the system's CAs; ``False``: no verification (never in production); a path: that
    file's certificates only (development stacks with self-signed servers)."""
    if isinstance(verify, str):
        return ssl.create_default_context(cafile=verify)
    return verify
