"""Headless Chromium for the browser tests (selenium with the system's chromedriver): a driver
with the arguments every test needs, a page captured as a small PNG, and a screenshot kept in the
directory an environment variable names (the ``make …-screenshots`` targets)."""

from __future__ import annotations

import base64
import contextlib
import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOT_LIMIT = 300_000  # bytes a screenshot may take in the repository


@contextlib.contextmanager
def headless_chromium(*arguments: str, page_load: float) -> Iterator[WebDriver]:
    """Headless Chromium with ``arguments`` besides those every test needs."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        *arguments,
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(page_load)
    try:
        yield driver
    finally:
        driver.quit()


def small_png(browser: WebDriver, path: Path, height: int | None = None) -> Path:
    """The page from its top, ``height`` pixels of it (default: all), as a PNG of 32 colours."""
    width = browser.execute_script("return document.documentElement.clientWidth")
    if height is None:
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
    return path


def keep(shot: Path, variable: str) -> None:
    """``shot`` copied into the directory the environment variable ``variable`` names, if any."""
    kept = os.environ.get(variable)
    if kept:
        Path(kept).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, Path(kept) / shot.name)
