"""Looking for a secret in a text: a digit secret (a PIN, a My Number) counts only as a number of
its own, not inside a longer number or a hex string (a salt, a digest, a port, an order id), where
four given digits turn up by chance about once in a few thousand places."""

from __future__ import annotations

import re


def holds(text: str, secret: str) -> bool:
    if not secret.isdigit():
        return secret in text
    return re.search(rf"(?<![0-9A-Fa-f]){secret}(?![0-9A-Fa-f])", text) is not None
