"""The operators' console in headless Chromium with a virtual WebAuthn authenticator (Chrome
DevTools' WebAuthn domain, through selenium): a passkey registered through an enrolment link,
signing out and in again (also with the keyboard alone), every page in Japanese and English, a
municipal account's view and a tampered address, a passkey the console does not know. Chromium
trusts exactly the console's TLS certificate (its key's hash), so the page is a secure context
as WebAuthn requires (:mod:`support.console_browser`, shared with the other browser tests).
Screenshots of every page are taken here, on a morning of two towns' orders; ``make
console-screenshots`` keeps them in ``docs/screenshots/``."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.common.virtual_authenticator import Credential
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from center import heartbeats
from center.heartbeats import Heartbeat
from center.incidents import Scope, StopReason
from center.incidents_store import lift_stop, set_stop
from center.store.driver import Database
from documents import tokyo_day
from support import console_browser
from support.console_browser import (
    CALENDAR,
    WAIT,
    at,
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
    calendar_stored,
    center_directory,
    running_console,
    settled_orders,
)
from support.issuance_stops import EN, JA, on_database

NOW = dt.datetime(2026, 12, 8, 1, 0, tzinfo=dt.UTC)  # 10:00 in Japan
TERMINAL, OTHER_TERMINAL = "T-0001", "T-0002"
READY = Heartbeat("0.1.0", "ab" * 32, "ready", True, "up", None, 0, None)
PAGES = {
    "home": "/",
    "incidents": "/incidents",
    "settlement": "/settlement",
    "attention": "/attention",
    "volumes": "/volumes",
    "audit": "/audit",
    "calendar": "/calendar",
    "operators": "/operators",
    "fleet": "/fleet",
}
HEADINGS = {
    "ja": {
        "home": "概要",
        "incidents": "交付停止",
        "settlement": "日次精算",
        "attention": "要対応の注文",
        "volumes": "交付通数",
        "audit": "監査ログ",
        "calendar": "サービスカレンダー",
        "operators": "アカウント",
        "fleet": "端末の稼働状況",
    },
    "en": {
        "home": "Overview",
        "incidents": "Incidents — stop issuance",
        "settlement": "Daily settlement",
        "attention": "Orders needing a person",
        "volumes": "Volumes",
        "audit": "Audit log",
        "calendar": "Service calendar",
        "operators": "Accounts",
        "fleet": "Fleet",
    },
}


async def morning(book: OrderBook) -> BusyDay:
    """The two towns' morning: orders for the volumes and orders that need a person."""
    return await busy_day(book, NOW, TOWN, OTHER_TOWN, STORES)


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningConsole]:
    """A console on a center with both towns connected, one terminal, a day's settled orders, a
    calendar, a stop of the other town in force and a stop of everything lifted."""
    directory = tmp_path_factory.mktemp("console-browser")
    config = center_directory(directory, None)
    for code in (TOWN, OTHER_TOWN):
        config.municipalities[code] = {"url": f"https://municipal-{code}.example"}
    config.save()
    config.enroll_terminal(
        TERMINAL, STORES[TOWN], directory / "terminal", now=NOW, municipality=TOWN, chain="familymart"
    )
    config.enroll_terminal(
        OTHER_TERMINAL,
        STORES[OTHER_TOWN],
        directory / "other",
        now=NOW,
        municipality=OTHER_TOWN,
        chain="lawson",
    )
    settled_orders(config, tokyo_day(NOW), NOW)
    make_orders(config.database_url, config.audit_chain_key, morning)
    calendar_stored(config, CALENDAR, NOW)
    key, earlier = config.audit_chain_key, NOW - dt.timedelta(hours=3)

    async def incidents(database: Database) -> None:
        reason = StopReason(JA, EN)
        over = await set_stop(database, key, Scope.ALL, None, reason, "sato.k", earlier)
        await lift_stop(database, key, over.stop_id, "sato.k", earlier + dt.timedelta(minutes=40))
        elsewhere = StopReason(
            "大阪市のシステム障害のため停止しています", "Stopped because of a fault in Osaka's system"
        )
        await set_stop(database, key, Scope.MUNICIPALITY, OTHER_TOWN, elsewhere, "sato.k", earlier)

    on_database(config, incidents)

    async def heartbeats_received(database: Database) -> None:
        beats = (
            (TERMINAL, READY, earlier),
            (TERMINAL, dataclasses.replace(READY, printer="paper_low"), earlier + dt.timedelta(hours=1)),
            (TERMINAL, dataclasses.replace(READY, printer="paper_low"), NOW),
            (OTHER_TERMINAL, dataclasses.replace(READY, alarm="door", change_owed=40), NOW),
        )
        for terminal_id, beat, received in beats:
            async with database.connection() as connection:
                await heartbeats.record(connection, terminal_id, beat, received)

    on_database(config, heartbeats_received)
    with running_console(config, ConsoleClock(NOW)) as running:
        yield running


browser = console_browser.browser


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
    assert menu == ["/", "/fleet", "/incidents", "/settlement", "/attention", "/volumes", "/calendar"]
    browser.get(f"{console.url}/settlement")
    parties = [
        row.get_attribute("data-party")
        for row in browser.find_elements(By.CSS_SELECTOR, "#settlement tr[data-party]")
    ]
    assert parties == [TOWN, STORES[TOWN]]
    browser.get(f"{console.url}/calendar")
    stops = [
        item.get_attribute("data-municipality")
        for item in browser.find_elements(By.CSS_SELECTOR, "#stops-table tr[data-municipality]")
    ]
    assert stops == [TOWN]
    browser.get(f"{console.url}/incidents")
    listed = [
        row.get_attribute("data-target") for row in browser.find_elements(By.CSS_SELECTOR, "tr[data-stop]")
    ]
    assert listed == [""]  # the stop of everything (lifted), not the other town's (in force)
    assert not browser.find_elements(By.CSS_SELECTOR, "input[type=radio]")  # their own town only
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


def test_a_stop_set_in_the_browser_is_listed_and_lifted(
    browser: WebDriver, console: RunningConsole, tmp_path: Path
) -> None:
    """An operator stops one town through the form (a mistyped reason said next to its field
    first), confirms it, sees it in force and lifts it; then stops everything in English. The
    confirmation is kept as a screenshot in both languages."""
    enrol(browser, console, "ito", "operator")
    for lang, scope, target in (("ja", "municipality", TOWN), ("en", "all", "")):
        browser.get(f"{console.url}/incidents?lang={lang}")
        browser.find_element(By.CSS_SELECTOR, f"label[for=scope-{scope}]").click()
        if target:
            browser.find_element(By.ID, "municipality").send_keys(target)
        browser.find_element(By.ID, "reason_ja").send_keys(JA)
        browser.find_element(By.ID, "reason_en").send_keys("Stopped <now>")
        browser.find_element(By.ID, "review-stop").click()
        mistyped = WebDriverWait(browser, WAIT).until(lambda b: b.find_element(By.ID, "reason_en-error"))
        assert mistyped.get_attribute("data-problem") == "reason_not_plain" and mistyped.is_displayed()
        field = browser.find_element(By.ID, "reason_en")
        assert field.get_attribute("aria-invalid") == "true"
        assert field.get_attribute("aria-describedby") == "reason_en-error"
        assert browser.find_element(By.ID, "problems").get_attribute("role") == "alert"
        assert browser.find_element(By.ID, f"scope-{scope}").is_selected()  # what was typed stays
        field.clear()
        field.send_keys(EN)
        browser.find_element(By.ID, "review-stop").click()
        confirm = WebDriverWait(browser, WAIT).until(lambda b: b.find_element(By.ID, "confirm"))
        assert (confirm.get_attribute("data-scope"), confirm.get_attribute("data-target")) == (scope, target)
        assert browser.find_element(By.ID, "confirm-reason-en").text == EN
        keep(screenshot(browser, tmp_path / f"console-incidents-confirm-{lang}.png"))
        browser.find_element(By.ID, "confirm-stop").click()
        notice = WebDriverWait(browser, WAIT).until(lambda b: b.find_element(By.ID, "notice"))
        stop_id = notice.get_attribute("data-stop")
        assert browser.current_url == f"{console.url}/incidents?set={stop_id}"
        row = browser.find_element(By.CSS_SELECTOR, f"#in-force tr[data-stop='{stop_id}']")
        assert (row.get_attribute("data-scope"), row.get_attribute("data-target")) == (scope, target)
        assert "ito" in row.text and JA in row.text and EN in row.text
        browser.find_element(By.ID, f"lift-{stop_id}").click()
        lifted_at = f"{console.url}/incidents?lifted={stop_id}"
        WebDriverWait(browser, WAIT).until(lambda b, url=lifted_at: b.current_url == url)
        assert not browser.find_elements(By.CSS_SELECTOR, f"#in-force tr[data-stop='{stop_id}']")
        lifted = browser.find_element(By.CSS_SELECTOR, f"#history tr[data-stop='{stop_id}']")
        assert lifted.text.count("ito") == 2  # set and lifted by the account signed in


def test_the_fleet_and_a_terminal_s_page_and_a_suspension_confirmed(
    browser: WebDriver, console: RunningConsole, tmp_path: Path
) -> None:
    """An operator filters the fleet to the terminals with an alarm, opens one, suspends it after
    the confirmation and reactivates it; the fleet, the terminal's page and the confirmation are
    kept as screenshots in both languages."""
    enrol(browser, console, "watanabe", "operator")
    for lang in ("ja", "en"):
        browser.get(f"{console.url}/fleet?lang={lang}")
        listed = [
            row.get_attribute("data-terminal")
            for row in browser.find_elements(By.CSS_SELECTOR, "#fleet tbody tr")
        ]
        # by terminal id: the two of this test, then those the morning's orders came from
        assert listed == sorted(listed) and listed[:2] == [TERMINAL, OTHER_TERMINAL]
        browser.find_element(By.CSS_SELECTOR, "label[for=condition-alarm]").click()
        browser.find_element(By.ID, "filter").click()
        WebDriverWait(browser, WAIT).until(lambda b: "condition=alarm" in b.current_url)
        assert browser.find_element(By.ID, "condition-alarm").is_selected()
        listed = [
            row.get_attribute("data-terminal")
            for row in browser.find_elements(By.CSS_SELECTOR, "#fleet tbody tr")
        ]
        assert listed == [OTHER_TERMINAL]
        browser.get(f"{console.url}/fleet?lang={lang}")
        keep(screenshot(browser, tmp_path / f"console-fleet-{lang}.png"))
        browser.find_element(By.LINK_TEXT, TERMINAL).click()
        WebDriverWait(browser, WAIT).until(lambda b: b.current_url.endswith(f"/fleet/terminals/{TERMINAL}"))
        # ready, paper low, and paper low again after an hour of silence
        assert len(browser.find_elements(By.CSS_SELECTOR, "#history tbody tr")) == 3
        keep(screenshot(browser, tmp_path / f"console-fleet-terminal-{lang}.png"))
        browser.find_element(By.ID, "review-suspend").click()
        confirm = WebDriverWait(browser, WAIT).until(lambda b: b.find_element(By.ID, "confirm"))
        assert confirm.get_attribute("data-action") == "suspend"
        keep(screenshot(browser, tmp_path / f"console-fleet-suspend-confirm-{lang}.png"))
        browser.find_element(By.ID, "confirm-action").click()
        notice = WebDriverWait(browser, WAIT).until(lambda b: b.find_element(By.ID, "notice"))
        assert notice.get_attribute("data-done") == "suspend"
        assert browser.find_element(By.ID, "terminal").get_attribute("data-enrolment") == "suspended"
        browser.find_element(By.ID, "review-activate").click()
        WebDriverWait(browser, WAIT).until(lambda b: b.find_element(By.ID, "confirm-action")).click()
        # the click navigates: the page it left may still be read once, then its element is stale,
        # or Chromium's inspector answers "unknown error" while the document is being replaced
        # (both WebDriverException): asked again until the new page says it, or WAIT runs out
        WebDriverWait(browser, WAIT, ignored_exceptions=(WebDriverException,)).until(
            lambda b: b.find_element(By.ID, "terminal").get_attribute("data-enrolment") == "active"
        )
