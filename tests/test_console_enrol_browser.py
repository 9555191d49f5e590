"""The Fleet page's enrolment form in headless Chromium, with a virtual WebAuthn authenticator
(:mod:`support.console_browser`): an operator follows the fleet's link, types a terminal's id and
store and pastes the request its kiosk made, and sees the certificate's fingerprint and the
bundle's link, in Japanese and in English. The form and its answer are kept as screenshots
(``make console-screenshots``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from kiosk.enrolment import install_enrolment, request_enrolment
from support.console_browser import WAIT, chromium, enrol, keep, screenshot
from support.console_server import TOWN, ConsoleClock, RunningConsole, center_directory, running_console

NOW = dt.datetime(2026, 12, 8, 1, 0, tzinfo=dt.UTC)  # 10:00 in Japan
WORDS = {
    "ja": ("端末を登録", "端末を登録しました。"),
    "en": ("Enrol a terminal", "The terminal is enrolled."),
}


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningConsole]:
    config = center_directory(tmp_path_factory.mktemp("console-enrol-browser"), None)
    with running_console(config, ConsoleClock(NOW)) as running:
        yield running


@pytest.fixture(scope="module")
def browser(console: RunningConsole) -> Iterator[WebDriver]:
    with chromium(console) as driver:
        yield driver


def test_an_operator_enrols_a_terminal_in_the_browser_in_both_languages(
    browser: WebDriver, console: RunningConsole, tmp_path: Path
) -> None:
    enrol(browser, console, "kobayashi", "operator")
    for number, lang in enumerate(("ja", "en"), start=1):
        terminal_id, kiosk = f"T-010{number}", tmp_path / lang
        request_enrolment(kiosk, terminal_id)
        browser.get(f"{console.url}/fleet?lang={lang}")
        browser.find_element(By.ID, "enrol-link").click()
        WebDriverWait(browser, WAIT).until(lambda b: b.current_url == f"{console.url}/fleet/enrol")
        assert browser.find_element(By.TAG_NAME, "h1").text == WORDS[lang][0]
        for field, typed in (
            ("terminal_id", terminal_id),
            ("store", "ファミリーマート 千代田店"),
            ("municipality", TOWN),
        ):
            browser.find_element(By.CSS_SELECTOR, f"label[for={field}]").click()  # each field has its label
            browser.switch_to.active_element.send_keys(typed)
        browser.find_element(By.ID, "csr").send_keys((kiosk / "terminal.csr").read_text())
        keep(screenshot(browser, tmp_path / f"console-fleet-enrol-{lang}.png"))
        browser.find_element(By.ID, "enrol").click()
        shown = WebDriverWait(browser, WAIT).until(lambda b: b.find_element(By.ID, "enrolled"))
        assert shown.get_attribute("data-terminal") == terminal_id
        assert WORDS[lang][1] in shown.text
        fingerprint = browser.find_element(By.ID, "fingerprint").text
        link = browser.find_element(By.ID, "bundle").get_attribute("href")
        assert link == f"{console.url}/fleet/terminals/{terminal_id}/enrolment.json"
        keep(screenshot(browser, tmp_path / f"console-fleet-enrolled-{lang}.png"))
        bundle = browser.execute_script(  # what the link downloads, fetched by the page itself
            "return await (await fetch(arguments[0])).text();", link
        )
        assert install_enrolment(kiosk, bundle).fingerprint == fingerprint
