"""The kiosk's settings file (kiosk/config.py) and the peripheral controller it names."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from documents import MunicipalKey
from kiosk.assembly import peripherals_for
from kiosk.config import ConfigError, KioskConfig
from kiosk.staff import StaffCode

BASE = (
    'center_url = "https://center.example:8443"\ncenter_ca = "ca.pem"\nterminal = "terminal"\n'
    'trust = "keys.json"\njournal = "journal.json"\n'
)


def settings(
    tmp_path: Path,
    extra: str = "",
    *,
    print_to: str | None = "stand-in",
    peripherals: str | None = "stand-in",
) -> Path:
    """A settings file of ``BASE`` and ``extra``, with each device setting written unless ``None``."""
    devices = "".join(
        f'{name} = "{value}"\n'
        for name, value in (("print_to", print_to), ("peripherals", peripherals))
        if value is not None
    )
    path = tmp_path / "kiosk.toml"
    path.write_text(BASE + devices + extra, encoding="utf-8")
    return path


def test_the_stand_ins_run_when_the_settings_name_them(tmp_path: Path) -> None:
    config = KioskConfig.load(settings(tmp_path))
    assert (config.print_to, config.peripherals, config.reader, config.printer) == (
        "stand-in",
        "stand-in",
        "pcsc",
        1,
    )
    assert config.journal == tmp_path / "journal.json"
    assert peripherals_for(config) is None


@pytest.mark.parametrize(
    ("omitted", "choices"),
    [
        ("print_to", ['"cups:<queue>"', '"spool:<directory>"', '"stand-in"']),
        ("peripherals", ['"serial:<device>"', '"firmware-simulator"', '"stand-in"']),
    ],
)
def test_a_device_setting_left_out_is_refused_with_the_choices(
    tmp_path: Path, omitted: str, choices: list[str]
) -> None:
    """A store terminal whose file forgot a line must not quietly take no money and print nothing."""
    with pytest.raises(ConfigError) as refused:
        KioskConfig.load(settings(tmp_path, **{omitted: None}))  # type: ignore[arg-type]
    said = str(refused.value)
    assert f"{omitted} must be written: {omitted} = " in said
    assert all(choice in said for choice in choices)
    assert "development and tests" in said


def test_both_device_settings_left_out_are_named_together(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="print_to and peripherals must be written"):
        KioskConfig.load(settings(tmp_path, print_to=None, peripherals=None))


def test_a_real_printer_and_controller_are_taken_as_written(tmp_path: Path) -> None:
    config = KioskConfig.load(settings(tmp_path, print_to="cups:koufu", peripherals="serial:/dev/ttyACM0"))
    assert (config.print_to, config.peripherals) == ("cups:koufu", "serial:/dev/ttyACM0")


@pytest.mark.parametrize("value", ["serial:/dev/ttyACM0", "firmware-simulator", "stand-in"])
def test_the_peripheral_controller_is_named(tmp_path: Path, value: str) -> None:
    assert KioskConfig.load(settings(tmp_path, peripherals=value)).peripherals == value


@pytest.mark.parametrize(
    ("devices", "extra", "says"),
    [
        ({"peripherals": "usb"}, "", "peripherals is serial:<device>, firmware-simulator or stand-in"),
        ({"print_to": "lpt1"}, "", "print_to is"),
        ({}, 'colour = "blue"\n', "unknown settings colour"),
        ({}, 'center_url = "http://plain"\n', None),  # TOML: a key given twice is itself an error
    ],
)
def test_wrong_settings_are_refused_with_the_reason(
    tmp_path: Path, devices: dict[str, str], extra: str, says: str | None
) -> None:
    with pytest.raises(ConfigError) as refused:
        KioskConfig.load(settings(tmp_path, extra, **devices))  # type: ignore[arg-type]
    if says is not None:
        assert says in str(refused.value)


@pytest.mark.parametrize(
    ("name", "value", "new"),
    [
        ("print_to", "simulated", 'print_to = "stand-in"'),
        ("peripherals", "simulated", 'peripherals = "stand-in"'),
        ("peripherals", "simulator", 'peripherals = "firmware-simulator"'),
    ],
)
def test_a_former_value_is_refused_with_its_new_name(tmp_path: Path, name: str, value: str, new: str) -> None:
    """A settings file of before the values were renamed: the kiosk does not start, and says what to write."""
    with pytest.raises(ConfigError) as refused:
        KioskConfig.load(settings(tmp_path, **{name: value}))  # type: ignore[arg-type]
    assert f'{name} = "{value}" is no longer accepted; write {new} (' in str(refused.value)


def test_a_missing_setting_and_a_plain_http_center_are_refused(tmp_path: Path) -> None:
    path = settings(tmp_path)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('journal = "journal.json"\n', ""), encoding="utf-8")
    with pytest.raises(ConfigError, match="journal is missing"):
        KioskConfig.load(path)
    path.write_text(text.replace("https://", "http://"), encoding="utf-8")
    with pytest.raises(ConfigError, match="center_url must be https"):
        KioskConfig.load(path)


def test_the_municipal_keys_are_published_keys_each_with_an_optional_name(tmp_path: Path) -> None:
    """``trust`` names the one form of ``municipal-keys.json`` the center writes: an array of
    published keys, an entry with or without the municipality's ``name``."""
    named, plain = (MunicipalKey.generate(code).trusted() for code in ("131016", "131041"))
    config = KioskConfig.load(settings(tmp_path))
    config.trust.write_text(json.dumps([{**named.to_json(), "name": "千代田区"}, plain.to_json()]))
    assert set(config.trust_list()) == {named.key_id, plain.key_id}


@pytest.mark.parametrize(
    ("keys", "words"),
    [
        ("[", "cannot be read"),
        ('{"format": "koufu-trust/1", "keys": []}', "a list of published keys"),
        (lambda key: [{**key, "name": ""}], "name is a short text"),
        (lambda key: [{**key, "name": "区" * 41}], "name is a short text"),
        (lambda key: [{**key, "name": 7}], "name is a short text"),
        (lambda key: [{**key, "store": "神田店"}], "exactly"),
        (lambda key: [key, key], "twice"),
        (lambda key: [key["public_key"]], "a published key is an object"),
    ],
)
def test_municipal_keys_in_another_form_are_refused(tmp_path: Path, keys: Any, words: str) -> None:
    config = KioskConfig.load(settings(tmp_path))
    key = MunicipalKey.generate("131016").trusted().to_json()
    config.trust.write_text(keys if isinstance(keys, str) else json.dumps(keys(key)))
    with pytest.raises(ConfigError, match=words):
        config.trust_list()
    config.trust.unlink()
    with pytest.raises(ConfigError, match="cannot be read"):
        config.trust_list()


def test_the_simulator_named_in_the_settings_starts_the_firmware(tmp_path: Path) -> None:
    config = KioskConfig.load(settings(tmp_path, peripherals="firmware-simulator"))
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

    config = KioskConfig.load(settings(tmp_path, peripherals=f"serial:{tmp_path}/ttyACM7"))
    with pytest.raises(ControllerUnavailable, match="cannot open"):
        peripherals_for(config)


def test_the_settings_fingerprint_says_what_the_terminal_does_and_nothing_secret(tmp_path: Path) -> None:
    """What the heartbeat reports as ``config_hash``: the same settings, the same fingerprint;
    another printer, center certificate or trust list, another one. The staff code counts only
    as set or not (its hash is a secret of sorts), and the terminal's key not at all."""
    (tmp_path / "ca.pem").write_text("center CA")
    (tmp_path / "keys.json").write_text("[]")
    staff = f'staff_code = "{StaffCode.make("24681357", iterations=10_000).text()}"\n'
    other_staff = f'staff_code = "{StaffCode.make("13572468", iterations=10_000).text()}"\n'

    def fingerprint(extra: str = "", **devices: str) -> str:
        return KioskConfig.load(settings(tmp_path, extra, **devices)).fingerprint()  # type: ignore[arg-type]

    first = fingerprint(staff)
    assert len(first) == 64 and set(first) <= set("0123456789abcdef")
    assert fingerprint(staff) == first
    (tmp_path / "terminal").mkdir()
    (tmp_path / "terminal" / "key.pem").write_text("a new key")  # the key is never covered
    assert fingerprint(staff) == first
    assert fingerprint(other_staff) == first  # another staff code: the same settings
    assert fingerprint() != first  # no staff code at all: no maintenance mode
    assert fingerprint(staff + "printer = 2\n") != first
    assert fingerprint(staff, print_to="cups:koufu") != first
    (tmp_path / "keys.json").write_text('[{"another": "key"}]')
    assert fingerprint(staff) != first
    (tmp_path / "ca.pem").unlink()
    with pytest.raises(ConfigError, match=r"ca\.pem"):
        fingerprint(staff)


def test_the_heartbeats_go_to_the_center_unless_an_address_of_their_own_is_set(tmp_path: Path) -> None:
    plain = KioskConfig.load(settings(tmp_path))
    assert plain.heartbeat_url is None and plain.heartbeat_address == "https://center.example:8443"
    own = KioskConfig.load(settings(tmp_path, 'heartbeat_url = "https://center.example:8444"\n'))
    assert own.heartbeat_address == "https://center.example:8444"
    assert own.center_url == "https://center.example:8443"  # everything else still goes there
    with pytest.raises(ConfigError, match="heartbeat_url must be https"):
        KioskConfig.load(settings(tmp_path, 'heartbeat_url = "http://center.example:8444"\n'))


def test_the_fingerprint_names_the_heartbeats_address_only_when_one_is_set(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_bytes(b"ca")
    (tmp_path / "keys.json").write_bytes(b"[]")
    plain = KioskConfig.load(settings(tmp_path)).fingerprint()
    again = KioskConfig.load(settings(tmp_path)).fingerprint()
    own = KioskConfig.load(settings(tmp_path, 'heartbeat_url = "https://center.example:8444"\n'))
    assert plain == again != own.fingerprint()
