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
from selenium.webdriver.support.ui import WebDriverWait

from center.calendar import Closed, ServiceCalendar
from center.calendar_store import load_calendar, store_calendar
from center.store.engine import make_engine
from documents import JST
from support.console_browser import WAIT, chromium, enrol, keep, screenshot
from support.console_server import (
    OTHER_TOWN,
    TOWN,
    ConsoleClock,
    RunningConsole,
    center_directory,
    running_console,
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
RULE_BROKEN = {"ja": "カレンダーの規則に合いません", "en": "The calendar's rules refuse this"}


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningConsole]:
    config = center_directory(tmp_path_factory.mktemp("calendar-browser"), None)
    with running_console(config, ConsoleClock(NOW)) as running:
        yield running


@pytest.fixture(scope="module")
def browser(console: RunningConsole) -> Iterator[WebDriver]:
    with chromium(console) as driver:
        yield driver


def store(console: RunningConsole, data: dict[str, object]) -> None:
    engine = make_engine(console.config.database_url)
    try:
        with engine.begin() as connection:
            store_calendar(connection, ServiceCalendar.from_dict(data), NOW)
    finally:
        engine.dispose()


def in_force(console: RunningConsole) -> ServiceCalendar:
    engine = make_engine(console.config.database_url)
    try:
        with engine.connect() as connection:
            return load_calendar(connection)
    finally:
        engine.dispose()


def shown(browser: WebDriver, selector: str) -> WebElement:
    found: WebElement = WebDriverWait(browser, WAIT).until(
        lambda b: next((e for e in b.find_elements(By.CSS_SELECTOR, selector) if e.is_displayed()), False)
    )
    return found


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
        store(console, CALENDAR)
        browser.get(f"{console.url}/calendar?lang={lang}")
        browser.find_element(By.ID, "edit-maintenance-0").click()
        shown(browser, "#calendar-form")
        assert browser.find_element(By.ID, "f-start").get_attribute("value") == "2026-12-20 01:00"
        labelled(browser)

        retype(browser, "f-end", "2026-12-20 00:30")  # before its start
        browser.find_element(By.ID, "review").click()
        summary = shown(browser, "#error-summary")
        assert browser.switch_to.active_element == summary  # the summary is read out first
        error = browser.find_element(By.ID, "f-end-error")
        assert error.text.startswith(RULE_BROKEN[lang]) and "a window must start" in error.text
        assert browser.find_element(By.ID, "f-end").get_attribute("aria-invalid") == "true"
        assert "f-end-error" in str(browser.find_element(By.ID, "f-end").get_attribute("aria-describedby"))
        keep(screenshot(browser, tmp_path / f"console-calendar-error-{lang}.png"))

        retype(browser, "f-end", end)
        browser.find_element(By.ID, "review").click()
        shown(browser, "#review-form")
        labelled(browser)
        retype(browser, "f-preview_at", "2026-12-20 05:30")  # after the window today, within it changed
        browser.find_element(By.ID, "preview-again").click()
        shown(browser, "#review-form")
        before, after = answer(browser, "before"), answer(browser, "after")
        assert (before["open"], before["code"]) == ("false", "outside_service_hours")
        assert (after["open"], after["code"]) == ("false", "maintenance")
        keep(screenshot(browser, tmp_path / f"console-calendar-review-{lang}.png"))
        assert in_force(console).maintenance[0].window.end.hour == 5  # nothing saved by a review

        browser.find_element(By.ID, "save").click()
        shown(browser, "#saved")
        assert browser.current_url == f"{console.url}/calendar?saved=maintenance"
        window = in_force(console).maintenance[0].window
        assert window.end == dt.datetime.fromisoformat(end).replace(tzinfo=JST)
        assert f"{end}:00" in browser.find_element(By.ID, "maintenance-table").text
        # the review's words are the center's refusal with the calendar now in force
        decision = in_force(console).check(dt.datetime(2026, 12, 20, 5, 30, tzinfo=JST))
        assert isinstance(decision, Closed)
        assert (after["ja"], after["en"]) == (decision.message_ja, decision.message_en)
