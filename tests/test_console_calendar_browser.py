"""The service calendar changed in headless Chromium (the console's browser fixtures, from
``support.console_browser``): an operator opens a maintenance window's form from the calendar,
types an end before its start and is shown the calendar's rule next to the field (the summary
taking the focus), corrects it, sees on the review what a terminal is told before and after the
change at a moment they choose, saves, and finds the window changed in the list; in Japanese and
in English. ``make console-screenshots`` keeps the form with its error and the review."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from center.calendar import Closed
from documents import JST
from support import console_browser
from support.console_browser import CALENDAR, WAIT, enrol, keep, screenshot
from support.console_server import (
    ConsoleClock,
    RunningConsole,
    calendar_in_force,
    calendar_stored,
    center_directory,
    running_console,
)

NOW = dt.datetime(2026, 12, 8, 1, 0, tzinfo=dt.UTC)  # 10:00 in Japan
RULE_BROKEN = {"ja": "カレンダーの規則に合いません", "en": "The calendar's rules refuse this"}


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningConsole]:
    config = center_directory(tmp_path_factory.mktemp("calendar-browser"), None)
    with running_console(config, ConsoleClock(NOW)) as running:
        yield running


browser = console_browser.browser


def shown(browser: WebDriver, selector: str) -> WebElement:
    found: WebElement = WebDriverWait(browser, WAIT).until(
        lambda b: next((e for e in b.find_elements(By.CSS_SELECTOR, selector) if e.is_displayed()), False)
    )
    return found


def leave_by(browser: WebDriver, button: str) -> None:
    """Press ``button`` and wait until its page is gone, so that what is looked for next is found
    on the page that answers, not on this one (whose elements would go stale under the reader)."""
    page = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.ID, button).click()
    WebDriverWait(browser, WAIT).until(expected_conditions.staleness_of(page))


def retype(browser: WebDriver, field: str, text: str) -> None:
    element = browser.find_element(By.ID, field)
    element.clear()
    element.send_keys(text)


def answer(browser: WebDriver, table: str) -> dict[str, str]:
    """The session's row of a table of what a terminal is told."""
    row = browser.find_element(By.CSS_SELECTOR, f"#{table} tr[data-step=session]")
    words = {
        cell.get_attribute("data-lang"): cell.text for cell in row.find_elements(By.CSS_SELECTOR, "td.words")
    }
    return {"open": str(row.get_attribute("data-open")), "code": str(row.get_attribute("data-code")), **words}


def labelled(browser: WebDriver) -> None:
    """Every field of the page has its label."""
    labels = {label.get_attribute("for") for label in browser.find_elements(By.TAG_NAME, "label")}
    fields = browser.find_elements(By.CSS_SELECTOR, "input:not([type=hidden]), select, textarea")
    assert fields and all(field.get_attribute("id") in labels for field in fields)


def test_a_maintenance_window_changed_through_the_form_with_its_preview(
    browser: WebDriver, console: RunningConsole, tmp_path: Path
) -> None:
    enrol(browser, console, "watanabe", "operator")
    for lang, end in (("ja", "2026-12-20 06:00"), ("en", "2026-12-20 07:00")):
        calendar_stored(console.config, CALENDAR, NOW)
        browser.get(f"{console.url}/calendar?lang={lang}")
        browser.find_element(By.ID, "edit-maintenance-0").click()
        shown(browser, "#calendar-form")
        assert browser.find_element(By.ID, "f-start").get_attribute("value") == "2026-12-20 01:00"
        labelled(browser)

        retype(browser, "f-end", "2026-12-20 00:30")  # before its start
        leave_by(browser, "review")
        summary = shown(browser, "#error-summary")
        assert browser.switch_to.active_element == summary  # the summary is read out first
        error = browser.find_element(By.ID, "f-end-error")
        assert error.text.startswith(RULE_BROKEN[lang]) and "a window must start" in error.text
        assert browser.find_element(By.ID, "f-end").get_attribute("aria-invalid") == "true"
        assert "f-end-error" in str(browser.find_element(By.ID, "f-end").get_attribute("aria-describedby"))
        keep(screenshot(browser, tmp_path / f"console-calendar-error-{lang}.png"))

        retype(browser, "f-end", end)
        leave_by(browser, "review")
        shown(browser, "#review-form")
        labelled(browser)
        retype(browser, "f-preview_at", "2026-12-20 05:30")  # after the window today, within it changed
        leave_by(browser, "preview-again")
        shown(browser, "#review-form")
        before, after = answer(browser, "before"), answer(browser, "after")
        assert (before["open"], before["code"]) == ("false", "outside_service_hours")
        assert (after["open"], after["code"]) == ("false", "maintenance")
        keep(screenshot(browser, tmp_path / f"console-calendar-review-{lang}.png"))
        # nothing saved by a review
        assert calendar_in_force(console.config).maintenance[0].window.end.hour == 5

        leave_by(browser, "save")
        shown(browser, "#saved")
        assert browser.current_url == f"{console.url}/calendar?saved=maintenance"
        window = calendar_in_force(console.config).maintenance[0].window
        assert window.end == dt.datetime.fromisoformat(end).replace(tzinfo=JST)
        assert f"{end}:00" in browser.find_element(By.ID, "maintenance-table").text
        # the review's words are the center's refusal with the calendar now in force
        decision = calendar_in_force(console.config).check(dt.datetime(2026, 12, 20, 5, 30, tzinfo=JST))
        assert isinstance(decision, Closed)
        assert (after["ja"], after["en"]) == (decision.message_ja, decision.message_en)
