"""The kiosk's settings file (kiosk/config.py) and the peripheral controller it names."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.assembly import peripherals_for
from kiosk.config import ConfigError, KioskConfig

BASE = (
    'center_url = "https://center.example:8443"\ncenter_ca = "ca.pem"\nterminal = "terminal"\n'
    'trust = "keys.json"\njournal = "journal.json"\n'
)


def settings(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(BASE + extra, encoding="utf-8")
    return path


def test_the_defaults_are_the_stand_ins(tmp_path: Path) -> None:
    config = KioskConfig.load(settings(tmp_path))
    assert (config.print_to, config.peripherals, config.reader, config.printer) == (
        "stand-in",
        "stand-in",
        "pcsc",
        1,
    )
    assert config.journal == tmp_path / "journal.json"
    assert peripherals_for(config) is None


@pytest.mark.parametrize("value", ["serial:/dev/ttyACM0", "firmware-simulator", "stand-in"])
def test_the_peripheral_controller_is_named(tmp_path: Path, value: str) -> None:
    assert KioskConfig.load(settings(tmp_path, f'peripherals = "{value}"\n')).peripherals == value


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        ('peripherals = "usb"\n', "peripherals is serial:<device>, firmware-simulator or stand-in"),
        ('print_to = "lpt1"\n', "print_to is"),
        ('colour = "blue"\n', "unknown settings colour"),
        ('center_url = "http://plain"\n', None),  # TOML: a key given twice is itself an error
    ],
)
def test_wrong_settings_are_refused_with_the_reason(tmp_path: Path, extra: str, says: str | None) -> None:
    with pytest.raises(ConfigError) as refused:
        KioskConfig.load(settings(tmp_path, extra))
    if says is not None:
        assert says in str(refused.value)


@pytest.mark.parametrize(
    ("extra", "new"),
    [
        ('print_to = "simulated"\n', 'print_to = "stand-in"'),
        ('peripherals = "simulated"\n', 'peripherals = "stand-in"'),
        ('peripherals = "simulator"\n', 'peripherals = "firmware-simulator"'),
    ],
)
def test_a_former_value_is_refused_with_its_new_name(tmp_path: Path, extra: str, new: str) -> None:
    """A settings file of before the values were renamed: the kiosk does not start, and says what to write."""
    with pytest.raises(ConfigError) as refused:
        KioskConfig.load(settings(tmp_path, extra))
    assert f"{extra.strip()} is no longer accepted; write {new} (" in str(refused.value)


def test_a_missing_setting_and_a_plain_http_center_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text(BASE.replace('journal = "journal.json"\n', ""), encoding="utf-8")
    with pytest.raises(ConfigError, match="journal is missing"):
        KioskConfig.load(path)
    path.write_text(BASE.replace("https://", "http://"), encoding="utf-8")
    with pytest.raises(ConfigError, match="center_url must be https"):
        KioskConfig.load(path)


def test_the_simulator_named_in_the_settings_starts_the_firmware(tmp_path: Path) -> None:
    config = KioskConfig.load(settings(tmp_path, 'peripherals = "firmware-simulator"\n'))
    peripherals = peripherals_for(config)
    assert peripherals is not None and peripherals.simulator is not None
    try:
        assert peripherals.controller.state.up
        assert peripherals.simulator.running
        assert (tmp_path / "board").is_dir()  # the board's state beside the journal
    finally:
        peripherals.close()
    assert not peripherals.simulator.running


def test_a_serial_port_that_is_not_there_is_a_clear_error(tmp_path: Path) -> None:
    from hardware.peripherals import ControllerUnavailable

    config = KioskConfig.load(settings(tmp_path, f'peripherals = "serial:{tmp_path}/ttyACM7"\n'))
    with pytest.raises(ControllerUnavailable, match="cannot open"):
        peripherals_for(config)
