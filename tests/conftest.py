"""Shared fixtures: a JPKI test authority and personalised emulated cards.

Key generation is the slow part, so a handful of template cards are issued once per session and
each test gets its own copy of the state file (a fresh card with fresh counters).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import hypothesis._settings
import hypothesis.internal.observability
import pytest

from hardware.cardsim.card import VirtualCard
from koufu.cards import issue_card

# The shared helpers' own checks say what failed, as the tests' do (registered before any is imported).
pytest.register_assert_rewrite("support")

pytest_plugins = [
    "support.fixtures_pcscd",
    "support.fixtures_postgres",
    "support.fixtures_authority",
    "support.fixtures_cups",
]

# Imported now, not at the end of the session: pytest's terminal summary imports these lazily,
# and CPython 3.11.7 can fail ast.parse there ("AST constructor recursion depth mismatch",
# fixed in 3.11.8) when it rewrites them after threads have run.
assert hypothesis._settings and hypothesis.internal.observability

PIN = "1234"
SIGN_PASSWORD = "ABC123"


@pytest.fixture(scope="session")
def authority_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("authority")


@pytest.fixture(scope="session")
def card_templates(tmp_path_factory: pytest.TempPathFactory, authority_dir: Path) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("card-templates")
    templates = {"card": root / "card.json", "android": root / "android.json"}
    issue_card(templates["card"], authority_dir=authority_dir, pin=PIN, sign_password=SIGN_PASSWORD)
    issue_card(
        templates["android"],
        authority_dir=authority_dir,
        pin=PIN,
        sign_password=SIGN_PASSWORD,
        profile="android",
    )
    return templates


@pytest.fixture
def card_path(tmp_path: Path, card_templates: dict[str, Path]) -> Path:
    path = tmp_path / "card.json"
    shutil.copyfile(card_templates["card"], path)
    return path


@pytest.fixture
def android_card_path(tmp_path: Path, card_templates: dict[str, Path]) -> Path:
    path = tmp_path / "android.json"
    shutil.copyfile(card_templates["android"], path)
    return path


@pytest.fixture
def card(card_path: Path) -> VirtualCard:
    card = VirtualCard.open(card_path)
    card.power_on()
    return card


# Modules whose worlds run daemons or server processes (pcscd, PostgreSQL, CUPS, the stack's
# authority, center and municipal servers). Marked ``daemons``: the run at another date
# (``make test-dates``, tests/at_date.py) leaves them out, to stay short; every other module must
# pass at any date, its world on one clock of its own.
DAEMON_MODULES = frozenset(
    {
        "test_authority_http",
        "test_card_attach",
        "test_center_api",
        "test_center_privacy",
        "test_center_registration",
        "test_center_registration_relay",
        "test_center_fuzz",
        "test_center_junk",
        "test_center_verify_page",
        "test_conformance",
        "test_console_access",
        "test_console_audit_page",
        "test_console_browser",
        "test_console_incidents",
        "test_console_incidents_stack",
        "test_console_calendar",
        "test_console_calendar_browser",
        "test_console_enrol",
        "test_console_enrol_browser",
        "test_console_browser_orders",
        "test_console_pages",
        "test_console_paging",
        "test_console_sessions",
        "test_console_tampering",
        "test_demo",
        "test_domicile_end_to_end",
        "test_incidents_stack",
        "test_heartbeat_group",
        "test_heartbeats_api",
        "test_kiosk_center_link",
        "test_kiosk_domicile",
        "test_kiosk_domicile_session",
        "test_kiosk_domicile_ui",
        "test_kiosk_heartbeat",
        "test_kiosk_kana_ui",
        "test_kiosk_paper_faults",
        "test_kiosk_peripherals",
        "test_kiosk_printer",
        "test_kiosk_privacy",
        "test_kiosk_session",
        "test_kiosk_store_printer",
        "test_kiosk_ui",
        "test_link_faults",
        "test_municipal_domicile_issuance",
        "test_municipal_http",
        "test_municipal_registration_http",
        "test_municipal_issuance_record",
        "test_opensc",
        "test_order_chaos",
        "test_order_faults",
        "test_orders",
        "test_pcsc",
        "test_postgres_fixture",
        "test_printer_cups",
        "test_printing_verify",
        "test_run_all",
        "test_sealing_keys_stack",
        "test_vpcd_link",
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if (
            item.path.stem in DAEMON_MODULES
            or item.get_closest_marker("postgres")
            or item.get_closest_marker("pcscd")
        ):
            item.add_marker(pytest.mark.daemons)
