"""The kiosk's settings (端末設定), one TOML file written when the terminal is installed::

    center_url = "https://center.example:8443"
    heartbeat_url = "https://center.example:8444"  # optional: where heartbeats go (default center_url),
                                         # the center's group serving heartbeats only, if it runs one
    center_ca = "center-ca.crt"          # the center's TLS certificate or CA (PEM)
    terminal = "terminal"                # the enrolled terminal's directory (id, key, certificate)
    trust = "municipal-keys.json"        # the published municipal signing keys (the center's file as it is)
    journal = "/var/lib/koufu/journal.json"
    printer = 1                          # the store's printer number, as the center knows it
    print_to = "cups:koufu"              # required: cups:<queue>, spool:<absolute directory>, or
                                         # "stand-in" (a printer in memory, for tests and development)
    reader = "pcsc"                      # pcsc (any PC/SC reader) or "pcsc:<name prefix>"
    peripherals = "serial:/dev/ttyACM0"  # required: the peripheral controller's port; "firmware-simulator"
                                         # runs its real firmware on the MicroPython unix port; "stand-in"
                                         # has Python stand-ins for coins, light, buzzer and maintenance
                                         # in the kiosk's own process, no controller
    staff_code = "pbkdf2_sha256$…"       # the staff's maintenance code, hashed (koufu staff-code);
                                         # without it there is no maintenance mode

The kiosk fails closed on its devices (フェイルクローズ): ``print_to`` and ``peripherals`` have no
default, and a file without either is refused with the values to choose from. A terminal in a store
whose file forgot a line would otherwise take no real money and print nothing; the stand-ins run
only where the file names them.

Relative paths are taken from the file's directory. The former values ``"simulated"`` and
``"simulator"`` are refused, with the value that replaces them: a terminal in a store must not
quietly start doing something else.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path

from center.enrolment import EnrolledTerminal
from documents import DocumentError, TrustList
from kiosk.staff import StaffCode, StaffCodeError
from printing.published_keys import load_key_list

STAND_IN = "stand-in"  # Python stand-ins in the kiosk's own process (kiosk/devices/stand_ins.py)
FIRMWARE_SIMULATOR = "firmware-simulator"  # the real firmware on the MicroPython unix port, over a pty

#: A device setting with no default → what may be written for it.
DEVICE_CHOICES: dict[str, str] = {
    "print_to": f'"cups:<queue>" or "spool:<directory>" for the store\'s printer, or "{STAND_IN}"',
    "peripherals": (
        f'"serial:<device>" for the peripheral controller, "{FIRMWARE_SIMULATOR}", or "{STAND_IN}"'
    ),
}

#: A former value → the value that means the same now.
RENAMED_VALUES: dict[tuple[str, str], str] = {
    ("print_to", "simulated"): STAND_IN,
    ("peripherals", "simulated"): STAND_IN,
    ("peripherals", "simulator"): FIRMWARE_SIMULATOR,
}
_MEANING = {
    STAND_IN: "Python stand-ins in the kiosk's own process, for tests and development",
    FIRMWARE_SIMULATOR: "the peripheral controller's real firmware on the MicroPython unix port",
}


class ConfigError(ValueError):
    """The settings file is missing something or has a wrong value."""


@dataclass(frozen=True)
class KioskConfig:
    center_url: str
    center_ca: Path
    terminal: Path
    trust: Path
    journal: Path
    print_to: str
    peripherals: str
    printer: int = 1
    reader: str = "pcsc"
    staff_code: StaffCode | None = None
    heartbeat_url: str | None = None  # None: the heartbeats go to center_url

    @property
    def heartbeat_address(self) -> str:
        """Where the heartbeats go: ``heartbeat_url``, else the center's URL."""
        return self.heartbeat_url or self.center_url

    @classmethod
    def load(cls, path: Path) -> KioskConfig:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise ConfigError(f"{path}: {error}") from None
        base = path.parent
        _require_devices(path, raw)
        try:
            config = cls(
                center_url=str(raw.pop("center_url")),
                center_ca=base / str(raw.pop("center_ca")),
                terminal=base / str(raw.pop("terminal")),
                trust=base / str(raw.pop("trust")),
                journal=base / str(raw.pop("journal")),
                printer=int(raw.pop("printer", 1)),
                reader=str(raw.pop("reader", "pcsc")),
                print_to=str(raw.pop("print_to")),
                peripherals=str(raw.pop("peripherals")),
                staff_code=StaffCode.parse(str(raw.pop("staff_code"))) if "staff_code" in raw else None,
                heartbeat_url=str(raw.pop("heartbeat_url")) if "heartbeat_url" in raw else None,
            )
        except KeyError as missing:
            raise ConfigError(f"{path}: {missing.args[0]} is missing") from None
        except StaffCodeError as error:
            raise ConfigError(f"{path}: {error}") from None
        if raw:
            raise ConfigError(f"{path}: unknown settings {', '.join(sorted(raw))}")
        if not config.center_url.startswith("https://"):
            raise ConfigError(f"{path}: center_url must be https")
        if config.heartbeat_url is not None and not config.heartbeat_url.startswith("https://"):
            raise ConfigError(f"{path}: heartbeat_url must be https")
        _refuse_renamed(path, "print_to", config.print_to)
        _refuse_renamed(path, "peripherals", config.peripherals)
        if not (config.print_to == STAND_IN or config.print_to.startswith(("cups:", "spool:"))):
            raise ConfigError(f"{path}: print_to is cups:<queue>, spool:<directory> or {STAND_IN}")
        if not (
            config.peripherals in (STAND_IN, FIRMWARE_SIMULATOR) or config.peripherals.startswith("serial:")
        ):
            raise ConfigError(f"{path}: peripherals is serial:<device>, {FIRMWARE_SIMULATOR} or {STAND_IN}")
        return config

    def fingerprint(self) -> str:
        """The settings' identity (設定の指紋), for the heartbeat: lowercase hex SHA-256 of what this
        terminal is set up to do, so operators see which terminals run which settings. It covers
        the center's URL, the center's TLS certificate and the municipal keys (their files'
        SHA-256), the printer and its number, the reader, the peripheral controller, and whether a
        staff code is set, and the heartbeats' own address when one is set; nothing secret (no key,
        not the staff code's hash) and no file's place. Raises :class:`ConfigError` when a file it
        covers cannot be read."""
        try:
            center_ca, trust = (
                hashlib.sha256(path.read_bytes()).hexdigest() for path in (self.center_ca, self.trust)
            )
        except OSError as error:
            raise ConfigError(f"{error.filename}: {error.strerror}") from None
        settings = {
            "center_url": self.center_url,
            "center_ca": center_ca,
            "trust": trust,
            "print_to": self.print_to,
            "printer": self.printer,
            "reader": self.reader,
            "peripherals": self.peripherals,
            "staff_code": self.staff_code is not None,
        }
        if self.heartbeat_url is not None:  # only when set: the fingerprints of other settings stay
            settings["heartbeat_url"] = self.heartbeat_url
        canonical = json.dumps(settings, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()

    def enrolled(self) -> EnrolledTerminal:
        return EnrolledTerminal.load(self.terminal)

    def trust_list(self) -> TrustList:
        """The published municipal keys of ``trust`` (``municipal-keys.json``, in the one form the
        center also reads and publishes: an array of published keys, each may add ``name``)."""
        try:
            return load_key_list(self.trust).trust
        except DocumentError as error:
            raise ConfigError(f"{self.trust}: {error}") from None


def _refuse_renamed(path: Path, name: str, value: str) -> None:
    """A former value, refused with the value that replaces it."""
    new = RENAMED_VALUES.get((name, value))
    if new is not None:
        raise ConfigError(
            f'{path}: {name} = "{value}" is no longer accepted; write {name} = "{new}" ({_MEANING[new]})'
        )


def _require_devices(path: Path, raw: dict[str, object]) -> None:
    """Refuse a file that leaves out a device setting (``print_to``, ``peripherals``), saying what to
    write: the real device, or the stand-ins explicitly for development and tests."""
    missing = [name for name in DEVICE_CHOICES if name not in raw]
    if missing:
        lines = "; ".join(f"{name} = {DEVICE_CHOICES[name]}" for name in missing)
        raise ConfigError(
            f"{path}: {' and '.join(missing)} must be written: {lines} "
            f"(the stand-ins take no money and print nothing: for development and tests only)"
        )
