"""The console's settings: ``console.json`` in the center's directory, every member optional.

```json
{"origin": "https://console.center.example:8444", "idle_timeout_seconds": 900,
 "session_lifetime_seconds": 43200, "enrolment_valid_hours": 24}
```

``origin`` is the address operators' browsers use (scheme, host and port): passkeys are bound to
its host name (the WebAuthn relying party id), and every change must come from it. It must be
``https`` and name a host, not an IP address (WebAuthn has no relying party id for an address).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from center.config import ConfigError

SETTINGS_FILE = "console.json"
DEFAULT_PORT = 8444
IDLE_TIMEOUT = dt.timedelta(minutes=15)
SESSION_LIFETIME = dt.timedelta(hours=12)
ENROLMENT_VALIDITY = dt.timedelta(hours=24)
CEREMONY_TIMEOUT = dt.timedelta(minutes=5)  # from the passkey's options to the browser's answer


@dataclass(frozen=True)
class ConsoleSettings:
    origin: str = f"https://localhost:{DEFAULT_PORT}"
    idle_timeout: dt.timedelta = IDLE_TIMEOUT
    session_lifetime: dt.timedelta = SESSION_LIFETIME
    enrolment_validity: dt.timedelta = ENROLMENT_VALIDITY
    ceremony_timeout: dt.timedelta = CEREMONY_TIMEOUT

    def __post_init__(self) -> None:
        parts = urllib.parse.urlsplit(self.origin)
        if parts.scheme != "https" or not parts.hostname or parts.path not in ("", "/"):
            raise ConfigError(f"the console's origin must be https://HOST[:PORT], got {self.origin!r}")
        if parts.query or parts.fragment or parts.username:
            raise ConfigError(f"the console's origin must be https://HOST[:PORT], got {self.origin!r}")
        try:
            ipaddress.ip_address(parts.hostname)
        except ValueError:
            pass
        else:
            raise ConfigError("the console's origin must name a host, not an IP address (WebAuthn)")
        object.__setattr__(self, "origin", f"https://{parts.netloc.lower()}")
        if not dt.timedelta(minutes=1) <= self.idle_timeout <= self.session_lifetime:
            raise ConfigError("idle_timeout_seconds must be at least 60 and at most the session lifetime")
        if self.session_lifetime > dt.timedelta(days=1):
            raise ConfigError("session_lifetime_seconds must be at most a day")
        if not dt.timedelta(minutes=10) <= self.enrolment_validity <= dt.timedelta(days=14):
            raise ConfigError("enrolment_valid_hours must be between 10 minutes and 14 days")

    @property
    def rp_id(self) -> str:
        """The WebAuthn relying party id: the origin's host name."""
        host = urllib.parse.urlsplit(self.origin).hostname
        assert host is not None
        return host

    def enrolment_link(self, token: str) -> str:
        return f"{self.origin}/enrol?token={token}"

    @classmethod
    def load(cls, directory: Path, *, port: int | None = None) -> ConsoleSettings:
        """``console.json`` of ``directory``; without it, the defaults (the origin
        ``https://localhost:PORT``, ``port`` the console's or :data:`DEFAULT_PORT`)."""
        path = directory / SETTINGS_FILE
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            document = {}
        except (OSError, ValueError) as error:
            raise ConfigError(f"cannot read {path}: {error}") from error
        if not isinstance(document, dict):
            raise ConfigError(f"{path} must hold a JSON object")
        try:
            return cls(
                str(document.get("origin", f"https://localhost:{port or DEFAULT_PORT}")),
                dt.timedelta(seconds=int(document.get("idle_timeout_seconds", IDLE_TIMEOUT.total_seconds()))),
                dt.timedelta(
                    seconds=int(document.get("session_lifetime_seconds", SESSION_LIFETIME.total_seconds()))
                ),
                dt.timedelta(hours=float(document.get("enrolment_valid_hours", 24))),
            )
        except (TypeError, ValueError) as error:
            raise ConfigError(f"{path}: {error}") from error
