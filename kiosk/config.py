"""The kiosk's settings (端末設定), one TOML file written when the terminal is installed::

    center_url = "https://center.example:8443"
    center_ca = "center-ca.crt"          # the center's TLS certificate or CA (PEM)
    terminal = "terminal"                # the enrolled terminal's directory (id, key, certificate)
    trust = "municipal-keys.json"        # the published municipal signing keys
    journal = "/var/lib/koufu/journal.json"
    printer = 1                          # the store's printer number, as the center knows it
    print_to = "cups:koufu"              # cups:<queue>, spool:<absolute directory>, or simulated
    reader = "pcsc"                      # pcsc (any PC/SC reader) or "pcsc:<name prefix>"
    peripherals = "serial:/dev/ttyACM0"  # the peripheral controller's port; "simulator" runs its
                                         # firmware on the MicroPython unix port; "simulated" (the
                                         # default) has coins, light and buzzer in-process
    staff_code = "pbkdf2_sha256$…"       # the staff's maintenance code, hashed (koufu staff-code);
                                         # without it there is no maintenance mode

Relative paths are taken from the file's directory.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path

from center.enrolment import EnrolledTerminal
from documents import TrustedKey, TrustList
from kiosk.staff import StaffCode, StaffCodeError


class ConfigError(ValueError):
    """The settings file is missing something or has a wrong value."""


@dataclass(frozen=True)
class KioskConfig:
    center_url: str
    center_ca: Path
    terminal: Path
    trust: Path
    journal: Path
    printer: int = 1
    reader: str = "pcsc"
    print_to: str = "simulated"
    peripherals: str = "simulated"
    staff_code: StaffCode | None = None

    @classmethod
    def load(cls, path: Path) -> KioskConfig:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise ConfigError(f"{path}: {error}") from None
        base = path.parent
        try:
            config = cls(
                center_url=str(raw.pop("center_url")),
                center_ca=base / str(raw.pop("center_ca")),
                terminal=base / str(raw.pop("terminal")),
                trust=base / str(raw.pop("trust")),
                journal=base / str(raw.pop("journal")),
                printer=int(raw.pop("printer", 1)),
                reader=str(raw.pop("reader", "pcsc")),
                print_to=str(raw.pop("print_to", "simulated")),
                peripherals=str(raw.pop("peripherals", "simulated")),
                staff_code=StaffCode.parse(str(raw.pop("staff_code"))) if "staff_code" in raw else None,
            )
        except KeyError as missing:
            raise ConfigError(f"{path}: {missing.args[0]} is missing") from None
        except StaffCodeError as error:
            raise ConfigError(f"{path}: {error}") from None
        if raw:
            raise ConfigError(f"{path}: unknown settings {', '.join(sorted(raw))}")
        if not config.center_url.startswith("https://"):
            raise ConfigError(f"{path}: center_url must be https")
        if not (config.print_to == "simulated" or config.print_to.startswith(("cups:", "spool:"))):
            raise ConfigError(f"{path}: print_to is cups:<queue>, spool:<directory> or simulated")
        if not (config.peripherals in ("simulated", "simulator") or config.peripherals.startswith("serial:")):
            raise ConfigError(f"{path}: peripherals is serial:<device>, simulator or simulated")
        return config

    def enrolled(self) -> EnrolledTerminal:
        return EnrolledTerminal.load(self.terminal)

    def trust_list(self) -> TrustList:
        keys = json.loads(self.trust.read_text(encoding="utf-8"))
        return TrustList([TrustedKey.from_json(key) for key in keys])
