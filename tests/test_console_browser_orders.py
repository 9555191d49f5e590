"""The volumes and the orders that need a person in headless Chromium (support.console_browser),
on a morning of two towns' orders: the charts are images with the names and descriptions a screen
reader announces, each beside its table; the period is chosen with the form; an operator settles
an order after a cash count through the page; municipal staff confirm their municipality's void
and are refused another municipality's volumes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select, WebDriverWait

from center.store.engine import make_engine
from center.store.tables import orders
from support import console_browser
from support.console_browser import WAIT, enrol
from support.console_orders import FEE, BusyDay, OrderBook, busy_day, make_orders, reconciled
from support.console_server import (
    OTHER_TOWN,
    STORES,
    TOWN,
    ConsoleClock,
    RunningConsole,
    center_directory,
    running_console,
)

NOW = dt.datetime(2026, 12, 8, 1, 0, tzinfo=dt.UTC)  # 10:00 in Japan
CHARTS = ("copies-over-time", "copies-by-municipality", "copies-by-type", "refusals-by-code")


@dataclass(frozen=True)
class Stage:
    console: RunningConsole
    day: BusyDay


async def morning(book: OrderBook) -> BusyDay:
    return await busy_day(book, NOW, TOWN, OTHER_TOWN, STORES)


@pytest.fixture(scope="module")
def stage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stage]:
    config = center_directory(tmp_path_factory.mktemp("console-browser-orders"), None)
    day = make_orders(config.database_url, config.audit_chain_key, morning)
    with running_console(config, ConsoleClock(NOW)) as running:
        yield Stage(running, day)


@pytest.fixture(scope="module")
def console(stage: Stage) -> RunningConsole:
    return stage.console


browser = console_browser.browser


def state_of(stage: Stage, order_id: str) -> str:
    engine = make_engine(stage.console.config.database_url)
    try:
        with engine.connect() as connection:
            query = sa.select(orders.c.state).where(orders.c.id == order_id)
            return str(connection.execute(query).scalar_one())
    finally:
        engine.dispose()


def handled(browser: WebDriver) -> str:
    shown = WebDriverWait(browser, WAIT).until(lambda b: b.find_elements(By.ID, "handled"))
    return str(shown[0].get_attribute("data-order"))


def test_an_operator_reads_the_volumes_and_settles_an_order_after_a_cash_count(
    browser: WebDriver, stage: Stage
) -> None:
    console, day = stage.console, stage.day
    enrol(browser, console, "ishikawa", "operator")
    browser.get(f"{console.url}/volumes?lang=en")
    total = sum(day.copies.values())
    assert browser.find_element(By.ID, "summary").get_attribute("data-copies") == str(total)
    for chart in CHARTS:
        image = browser.find_element(By.ID, chart)
        title = image.find_element(By.CSS_SELECTOR, "title").get_attribute("textContent")
        assert image.get_attribute("role") == "img" and image.accessible_name == title, chart
        described = browser.find_element(By.ID, str(image.get_attribute("aria-describedby")))
        assert described.tag_name == "desc" and "table" in described.get_attribute("textContent")
        assert image.size["width"] > 300 and image.size["height"] > 50  # drawn, not collapsed
    over_time = browser.find_element(By.ID, "copies-over-time")
    assert over_time.accessible_name == "Copies issued per hour, 2026-12-08"
    rows = browser.find_elements(By.CSS_SELECTOR, "#over-time-table tbody tr")
    assert len(rows) == 24
    region = browser.find_element(By.CSS_SELECTOR, "div.table-scroll[role=region]")
    assert region.get_attribute("tabindex") == "0"  # a keyboard scrolls the long table
    Select(browser.find_element(By.ID, "by")).select_by_value("day")
    browser.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()
    WebDriverWait(browser, WAIT).until(lambda b: "by=day" in b.current_url)
    assert len(browser.find_elements(By.CSS_SELECTOR, "#over-time-table tbody tr")) == 1  # today only
    assert (
        browser.find_element(By.ID, "copies-csv")
        .get_attribute("href")
        .endswith("/volumes/copies.csv?from=2026-12-08&to=2026-12-08&by=day")
    )

    browser.get(f"{console.url}/attention?lang=en")
    row = browser.find_element(By.CSS_SELECTOR, f'#not-ended tr[data-order="{day.printed}"]')
    assert row.get_attribute("data-state") == "printed"
    counted = row.find_element(By.CSS_SELECTOR, "input[name=counted]")
    label = browser.find_element(By.CSS_SELECTOR, f'label[for="{counted.get_attribute("id")}"]')
    assert label.text == "Counted at the store (yen)"
    counted.send_keys(str(2 * FEE))
    row.find_element(By.CSS_SELECTOR, "form[data-action=settle] button").click()
    assert handled(browser) == day.printed
    assert not browser.find_elements(By.CSS_SELECTOR, f'#not-ended tr[data-order="{day.printed}"]')
    assert state_of(stage, day.printed) == "settled" and reconciled(console.config.database_url) == []


def test_municipal_staff_confirm_their_municipality_s_void_and_see_nothing_of_another(
    browser: WebDriver, stage: Stage
) -> None:
    console, day = stage.console, stage.day
    enrol(browser, console, "matsumoto", "municipal", OTHER_TOWN)
    browser.get(f"{console.url}/attention")
    assert not browser.find_elements(By.CSS_SELECTOR, f'tr[data-order="{day.printing}"]')  # TOWN's
    row = browser.find_element(By.CSS_SELECTOR, f'#voids-pending tr[data-order="{day.pending}"]')
    row.find_element(By.CSS_SELECTOR, "label").click()  # the label ticks its box
    assert row.find_element(By.CSS_SELECTOR, "input[type=checkbox]").is_selected()
    row.find_element(By.CSS_SELECTOR, "button").click()
    assert handled(browser) == day.pending
    assert not browser.find_elements(By.CSS_SELECTOR, f'#voids-pending tr[data-order="{day.pending}"]')
    browser.get(f"{console.url}/volumes?municipality={TOWN}")
    assert browser.find_element(By.CSS_SELECTOR, "[data-error]").get_attribute("data-error") == "not_found"
    browser.get(f"{console.url}/volumes")
    municipalities = [
        cell.get_attribute("data-municipality")
        for cell in browser.find_elements(By.CSS_SELECTOR, "#municipality-table tr[data-municipality]")
    ]
    assert municipalities == [OTHER_TOWN]
