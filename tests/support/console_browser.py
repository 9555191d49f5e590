"""The operators' console in headless Chromium, for the browser tests: Chromium trusting exactly
the console's TLS certificate, a virtual WebAuthn authenticator (Chrome DevTools' WebAuthn domain,
through selenium), a person enrolled through their link and signed in, and screenshots of a
whole page (``make console-screenshots`` keeps them in ``docs/screenshots/``).

A browser test module has a module-scoped fixture ``console`` of its own (its center, its data) and
takes the Chromium on it from here, for the whole module, as a fixture of its own name::

    browser = console_browser.browser
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from selenium.webdriver.common.by import By
from selenium.webdriver.common.virtual_authenticator import VirtualAuthenticatorOptions
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from support.console_server import OTHER_TOWN, TOWN, RunningConsole, new_account
from support.headless_chromium import SCREENSHOT_LIMIT, headless_chromium, small_png
from support.headless_chromium import keep as keep_in

WAIT = 60  # seconds Chromium may take (a bound on waiting, not a measurement)
DESKTOP = (1280, 900)
SCREENSHOTS = "KOUFU_CONSOLE_SCREENSHOTS"  # a directory: the screenshots are kept there too
#: the service calendar the browser tests' centers keep: hours, the year-end closure, a maintenance
#: window and a stop of each town
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


@contextlib.contextmanager
def chromium(console: RunningConsole) -> Iterator[WebDriver]:
    """Headless Chromium trusting exactly the console's TLS certificate (its key's hash), so the
    console's pages are a secure context, as WebAuthn needs."""
    certificate = x509.load_pem_x509_certificate(console.config.path("tls.crt").read_bytes())
    spki = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    trusted = base64.b64encode(hashlib.sha256(spki).digest()).decode()
    with headless_chromium(
        f"--window-size={DESKTOP[0]},{DESKTOP[1]}",
        # the console's certificate, and no other, is trusted: a secure context, as WebAuthn needs
        f"--ignore-certificate-errors-spki-list={trusted}",
        page_load=WAIT,
    ) as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(console: RunningConsole) -> Iterator[WebDriver]:
    """Chromium (:func:`chromium`) on the module's ``console``, for the whole module."""
    with chromium(console) as driver:
        yield driver


def new_authenticator(browser: WebDriver) -> None:
    """A fresh platform authenticator (a phone's or a laptop's): resident keys, user verification."""
    if browser.virtual_authenticator_id is not None:
        browser.remove_virtual_authenticator()
    browser.add_virtual_authenticator(
        VirtualAuthenticatorOptions(
            transport=VirtualAuthenticatorOptions.Transport.INTERNAL,
            has_resident_key=True,
            has_user_verification=True,
            is_user_verified=True,
        )
    )


def signed_out(browser: WebDriver, console: RunningConsole) -> None:
    browser.delete_all_cookies()
    browser.get(f"{console.url}/sign-in")


def at(browser: WebDriver, console: RunningConsole, path: str) -> None:
    WebDriverWait(browser, WAIT).until(
        lambda b: b.current_url == f"{console.url}{path}" and b.find_elements(By.ID, "who")
    )


def enrol(
    browser: WebDriver, console: RunningConsole, name: str, role: str, municipality: str | None = None
) -> None:
    """The person opens their enrolment link and registers a passkey on a device of their own."""
    link = new_account(console, name, role, municipality)
    new_authenticator(browser)
    signed_out(browser, console)
    browser.get(link.url)
    assert browser.find_element(By.ID, "account").text == name
    browser.find_element(By.ID, "passkey").click()
    at(browser, console, "/")


def failure(browser: WebDriver) -> str:
    shown = WebDriverWait(browser, WAIT).until(
        lambda b: [e for e in b.find_elements(By.ID, "failure") if e.is_displayed()]
    )
    return str(shown[0].get_attribute("data-error"))


def keep(shot: Path) -> None:
    keep_in(shot, SCREENSHOTS)


def screenshot(browser: WebDriver, path: Path) -> Path:
    """The whole page as a small PNG (32 colours)."""
    small_png(browser, path)
    assert path.stat().st_size < SCREENSHOT_LIMIT
    return path
