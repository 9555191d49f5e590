"""The operators' console in headless Chromium, for the browser tests: Chromium trusting exactly the
console's TLS certificate (its key's hash), so the page is a secure context as WebAuthn requires;
a virtual WebAuthn authenticator (Chrome DevTools' WebAuthn domain, through selenium); a person
enrolled through their link and signed in; a page's refusal; and screenshots, small PNGs kept in
a directory when ``KOUFU_CONSOLE_SCREENSHOTS`` names one (``make console-screenshots``)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.virtual_authenticator import VirtualAuthenticatorOptions
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from support.console_server import RunningConsole, new_account

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WAIT = 60  # seconds Chromium may take (a bound on waiting, not a measurement)
DESKTOP = (1280, 900)
SCREENSHOTS = "KOUFU_CONSOLE_SCREENSHOTS"  # a directory: the screenshots are kept there too
SCREENSHOT_LIMIT = 300_000  # bytes a screenshot may take in the repository


@contextlib.contextmanager
def chromium(console: RunningConsole) -> Iterator[WebDriver]:
    """Headless Chromium that trusts the console's TLS certificate and no other."""
    certificate = x509.load_pem_x509_certificate(console.config.path("tls.crt").read_bytes())
    spki = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--window-size={DESKTOP[0]},{DESKTOP[1]}",
        # the console's certificate, and no other, is trusted: a secure context, as WebAuthn needs
        f"--ignore-certificate-errors-spki-list={base64.b64encode(hashlib.sha256(spki).digest()).decode()}",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(WAIT)
    try:
        yield driver
    finally:
        driver.quit()


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
    kept = os.environ.get(SCREENSHOTS)
    if kept:
        Path(kept).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, Path(kept) / shot.name)


def screenshot(browser: WebDriver, path: Path) -> Path:
    """The whole page as a small PNG (32 colours)."""
    width = browser.execute_script("return document.documentElement.clientWidth")
    height = browser.execute_script("return Math.ceil(document.documentElement.scrollHeight)")
    shot = browser.execute_cdp_cmd(  # type: ignore[attr-defined]
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
        },
    )
    with Image.open(io.BytesIO(base64.b64decode(shot["data"]))) as image:
        small = image.convert("RGB").quantize(colors=32, method=Image.Quantize.MEDIANCUT)
        small.save(path, "PNG", optimize=True)
    assert path.stat().st_size < SCREENSHOT_LIMIT
    return path
