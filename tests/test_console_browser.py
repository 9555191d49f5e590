"""The operators' console in headless Chromium with a virtual WebAuthn authenticator (Chrome
DevTools' WebAuthn domain, through selenium): a passkey registered through an enrolment link,
signing out and in again (also with the keyboard alone), every page in Japanese and English, a
municipal account's view and a tampered address, a passkey the console does not know. Chromium
trusts exactly the console's TLS certificate (its key's hash), so the page is a secure context
as WebAuthn requires (:mod:`support.console_browser`, shared with the other browser tests).
Screenshots of every page are taken here, on a morning of two towns' orders; ``make
console-screenshots`` keeps them in ``docs/screenshots/``."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.common.virtual_authenticator import Credential
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from center.calendar import ServiceCalendar
from center.calendar_store import store_calendar
from center.store.engine import make_engine
from documents import tokyo_day
from support.console_browser import (
    WAIT,
    at,
    chromium,
    enrol,
    failure,
    keep,
    new_authenticator,
    screenshot,
    signed_out,
)
from support.console_orders import BusyDay, OrderBook, busy_day, make_orders
from support.console_server import (
    OTHER_TOWN,
    STORES,
    TOWN,
    ConsoleClock,
    RunningConsole,
    center_directory,
    running_console,
    settled_orders,
)

NOW = dt.datetime(2026, 12, 8, 1, 0, tzinfo=dt.UTC)  # 10:00 in Japan
CALENDAR = {
    "format": 1,
    "service_hours": {"opens": "06:30", "closes": "23:00"},
    "year_end_closure": {"first": "12-29", "last": "01-03"},
    "maintenance": [{"start": "2026-12-20T01:00:00+09:00", "end": "2026-12-20T05:00:00+09:00"}],
    "municipality_stops": [
        {"municipality": TOWN, "start": "2026-12-12T00:00:00+09:00", "end": "2026-12-13T00:00:00+09:00"},
        {
            "municipality": OTHER_TOWN,
            "start": "2026-12-14T00:00:00+09:00",
            "end": "2026-12-15T00:00:00+09:00",
        },
    ],
    "certificate_hours": [],
    "suspensions": [],
}
PAGES = {
    "home": "/",
    "settlement": "/settlement",
    "attention": "/attention",
    "volumes": "/volumes",
    "audit": "/audit",
    "calendar": "/calendar",
    "operators": "/operators",
}
HEADINGS = {
    "ja": {
        "home": "概要",
        "settlement": "日次精算",
        "attention": "要対応の注文",
        "volumes": "交付通数",
        "audit": "監査ログ",
        "calendar": "サービスカレンダー",
        "operators": "アカウント",
    },
    "en": {
        "home": "Overview",
        "settlement": "Daily settlement",
        "attention": "Orders needing a person",
        "volumes": "Volumes",
        "audit": "Audit log",
        "calendar": "Service calendar",
        "operators": "Accounts",
    },
}


async def morning(book: OrderBook) -> BusyDay:
    """The two towns' morning: orders for the volumes and orders that need a person."""
    return await busy_day(book, NOW, TOWN, OTHER_TOWN, STORES)


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningConsole]:
    config = center_directory(tmp_path_factory.mktemp("console-browser"), None)
    settled_orders(config, tokyo_day(NOW), NOW)
    make_orders(config.database_url, config.audit_chain_key, morning)
    engine = make_engine(config.database_url)
    with engine.begin() as connection:
        store_calendar(connection, ServiceCalendar.from_dict(CALENDAR), NOW)
    engine.dispose()
    with running_console(config, ConsoleClock(NOW)) as running:
        yield running


@pytest.fixture(scope="module")
def browser(console: RunningConsole) -> Iterator[WebDriver]:
    with chromium(console) as driver:
        yield driver


def test_a_passkey_is_registered_through_its_link_then_signed_out_and_in_again(
    browser: WebDriver, console: RunningConsole
) -> None:
    enrol(browser, console, "suzuki", "operator")
    credentials = browser.get_credentials()
    assert (
        len(credentials) == 1
        and credentials[0].is_resident_credential
        and credentials[0].rp_id == "localhost"
    )
    assert "suzuki" in browser.find_element(By.ID, "who").text
    browser.find_element(By.ID, "sign-out").click()
    WebDriverWait(browser, WAIT).until(lambda b: b.current_url == f"{console.url}/sign-in")
    browser.get(f"{console.url}/settlement")  # signed out: sent to sign in, and back after
    assert browser.current_url == f"{console.url}/sign-in?next=%2Fsettlement"
    browser.find_element(By.ID, "passkey").click()
    at(browser, console, "/settlement")
    assert browser.get_credentials()[0].sign_count >= 2  # the passkey signed twice: enrolment, sign-in


def test_signing_in_with_the_keyboard_alone(browser: WebDriver, console: RunningConsole) -> None:
    enrol(browser, console, "takahashi", "auditor")
    signed_out(browser, console)
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    assert browser.switch_to.active_element.get_attribute("class") == "skip"  # first: skip to the content
    for _ in range(6):
        if browser.switch_to.active_element.get_attribute("id") == "passkey":
            break
        browser.switch_to.active_element.send_keys(Keys.TAB)
    assert browser.switch_to.active_element.get_attribute("id") == "passkey"
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    at(browser, console, "/")


def test_every_page_in_japanese_and_english(
    browser: WebDriver, console: RunningConsole, tmp_path: Path
) -> None:
    enrol(browser, console, "yamada", "operator")
    for lang in ("ja", "en"):
        for slug, path in PAGES.items():
            browser.get(f"{console.url}{path}?lang={lang}")
            assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang
            assert browser.find_element(By.TAG_NAME, "h1").text == HEADINGS[lang][slug]
            assert (
                browser.find_element(By.CSS_SELECTOR, "nav a[aria-current=page]")
                .get_attribute("href")
                .endswith(path)
            )
            assert not [
                label
                for label in browser.find_elements(By.TAG_NAME, "label")
                if not label.get_attribute("for")
            ]
            keep(screenshot(browser, tmp_path / f"console-{slug}-{lang}.png"))
        # the language stays chosen, and the link switches it
        browser.get(f"{console.url}/settlement")
        assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang
    browser.find_element(By.CSS_SELECTOR, "a.language").click()
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "ja"
    browser.get(f"{console.url}/audit")
    assert browser.find_element(By.ID, "chain").get_attribute("data-intact") == "true"
    signed_out(browser, console)
    for lang in ("ja", "en"):
        browser.get(f"{console.url}/sign-in?lang={lang}")
        keep(screenshot(browser, tmp_path / f"console-sign-in-{lang}.png"))


def test_municipal_staff_see_their_own_municipality_and_a_tampered_address_shows_nothing(
    browser: WebDriver, console: RunningConsole
) -> None:
    enrol(browser, console, "kato", "municipal", TOWN)
    menu = [link.get_attribute("pathname") for link in browser.find_elements(By.CSS_SELECTOR, "nav a")]
    assert menu == ["/", "/settlement", "/attention", "/volumes", "/calendar"]
    browser.get(f"{console.url}/settlement")
    parties = [
        row.get_attribute("data-party")
        for row in browser.find_elements(By.CSS_SELECTOR, "#settlement tr[data-party]")
    ]
    assert parties == [TOWN, STORES[TOWN]]
    browser.get(f"{console.url}/calendar")
    stops = [
        item.get_attribute("data-municipality")
        for item in browser.find_elements(By.CSS_SELECTOR, "li[data-municipality]")
    ]
    assert stops == [TOWN]
    browser.get(f"{console.url}/settlement?municipality={OTHER_TOWN}")
    assert browser.find_element(By.CSS_SELECTOR, "[data-error]").get_attribute("data-error") == "not_found"
    assert STORES[OTHER_TOWN] not in browser.page_source
    browser.get(f"{console.url}/audit")
    assert browser.find_element(By.CSS_SELECTOR, "[data-error]").get_attribute("data-error") == "not_allowed"


def test_a_passkey_the_console_does_not_know_is_refused_on_the_page(
    browser: WebDriver, console: RunningConsole
) -> None:
    new_authenticator(browser)
    key = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    browser.add_credential(
        Credential.create_resident_credential(os.urandom(16), "localhost", b"stranger", key, 0)
    )
    signed_out(browser, console)
    browser.find_element(By.ID, "passkey").click()
    assert failure(browser) == "unknown_credential"
    assert browser.switch_to.active_element.get_attribute("id") == "passkey"  # ready to try again
    assert browser.current_url == f"{console.url}/sign-in"
