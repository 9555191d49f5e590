"""The center's verification page, served by the real center process over TLS and used through
headless Chromium: a scan or a photo uploaded, an issue number and a code typed, bad uploads; the
page shows the verdict and nothing about the person (the residents' names are planted canaries:
they are in the issued documents, and must be in no page and no log)."""

from __future__ import annotations

import json
import shutil
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from center.verify_page import KEYS_FILE, UPLOAD_LIMIT
from support.page_images import encoded, page_image, pdf_of, photo_of, smudged_page
from support.verification import Copies, issue_copies, koufu_verify
from support.world import World, running_world

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
PAGE_LOAD = 60  # seconds Chromium may take for a page (a bound on waiting, not a measurement)


@pytest.fixture(scope="module", params=["sqlite"])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from running_world(request, tmp_path_factory, "verify-page", 30)


@pytest.fixture(scope="module")
def copies(world: World, tmp_path_factory: pytest.TempPathFactory) -> Copies:
    issued = issue_copies(world, tmp_path_factory.mktemp("page-keys"), "T-0701")
    shutil.copyfile(issued.keys_file, world.stack.center_dir / KEYS_FILE)  # the center's published keys
    return issued


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--ignore-certificate-errors",
        "--disable-dev-shm-usage",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(PAGE_LOAD)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def http(world: World) -> Iterator[httpx.Client]:
    tls = ssl.create_default_context(cafile=world.stack.center_tls)
    with httpx.Client(base_url=world.stack.center_url, verify=tls, timeout=60) as client:
        yield client


def names(copies: Copies) -> list[str]:
    """Every resident's name and its parts (family, given), as the documents hold them."""
    full = [copies.printed.name, copies.voided.name, copies.not_printed.name]
    return full + [part for name in full for part in name.split("　")]


def result_of(browser: WebDriver) -> str:
    """Waits for the result page; its verdict's outcome (or ``error:<code>``)."""
    WebDriverWait(browser, PAGE_LOAD).until(
        lambda b: b.find_elements(By.CSS_SELECTOR, "#result .verdict, #result .error")
    )
    verdicts = browser.find_elements(By.CSS_SELECTOR, "#result .verdict")
    if verdicts:
        return ",".join(str(v.get_attribute("data-outcome")) for v in verdicts)
    return f"error:{browser.find_element(By.CSS_SELECTOR, '#result .error').get_attribute('data-error')}"


def upload(browser: WebDriver, world: World, path: Path) -> str:
    browser.get(f"{world.stack.center_url}/verify")
    browser.find_element(By.ID, "page").send_keys(str(path))
    browser.find_element(By.ID, "upload").click()
    return result_of(browser)


def type_in(browser: WebDriver, world: World, number: str, code: str) -> str:
    browser.get(f"{world.stack.center_url}/verify")
    browser.find_element(By.ID, "issue_number").send_keys(number)
    browser.find_element(By.ID, "code").send_keys(code)
    browser.find_element(By.ID, "typed").click()
    return result_of(browser)


def test_the_form_is_plain_html_in_japanese_and_english(world: World, http: httpx.Client) -> None:
    answer = http.get("/verify")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    assert "証明書の確認" in answer.text and "Verify a printed certificate" in answer.text
    assert "<script" not in answer.text.lower()
    assert "http://" not in answer.text and "https://" not in answer.text  # no external resource
    assert answer.headers["content-security-policy"].startswith("default-src 'none'")


def test_an_uploaded_scan_of_a_printed_copy_is_genuine_and_the_page_names_no_one(
    browser: WebDriver, world: World, copies: Copies, tmp_path: Path
) -> None:
    scan = tmp_path / "scan.png"
    scan.write_bytes(encoded(page_image(copies.printed.code)))
    assert upload(browser, world, scan) == "genuine"
    shown = browser.find_element(By.ID, "result").text
    assert copies.printed.code.claims.issue_number in shown and "千代田区" in shown and "1 / 1" in shown
    assert copies.printed.document.document.content_hash() in shown
    html = browser.page_source
    assert not [name for name in names(copies) if name in html]


def test_a_really_rendered_page_uploaded_is_genuine_and_its_printed_name_is_not_shown(
    browser: WebDriver, world: World, copies: Copies, tmp_path: Path
) -> None:
    printed = tmp_path / "printed.pdf"
    printed.write_bytes(pdf_of(*copies.printed.rendered(world.trust)))  # the resident's name is on it
    assert printed.stat().st_size < UPLOAD_LIMIT
    assert upload(browser, world, printed) == "genuine"
    assert copies.printed.code.claims.issue_number in browser.find_element(By.ID, "result").text
    assert not [name for name in names(copies) if name in browser.page_source]


def test_a_photo_of_a_voided_copy_is_shown_voided(
    browser: WebDriver, world: World, copies: Copies, tmp_path: Path
) -> None:
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(photo_of(page_image(copies.voided.code)))
    assert upload(browser, world, photo) == "voided"
    assert "この写しは取り消されています。" in browser.find_element(By.ID, "result").text
    assert not [name for name in names(copies) if name in browser.page_source]


def test_a_typed_number_and_code_are_checked(browser: WebDriver, world: World, copies: Copies) -> None:
    payload = copies.printed.code.claims
    typed_code = payload.verification_code.replace("-", "").lower()
    assert type_in(browser, world, payload.issue_number + "/01", typed_code) == "genuine"
    assert "千代田区" in browser.find_element(By.ID, "result").text
    assert (
        type_in(
            browser,
            world,
            copies.not_printed.code.claims.issue_number,
            copies.not_printed.code.claims.verification_code,
        )
        == "not_printed"
    )
    assert type_in(browser, world, payload.issue_number, "0000-0000-0000") == "unknown"
    assert type_in(browser, world, "12345", typed_code) == "error:bad_form"
    assert not [name for name in names(copies) if name in browser.page_source]


def test_a_file_that_is_not_a_page_is_refused_on_the_page(
    browser: WebDriver, world: World, copies: Copies, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.png"
    notes.write_bytes(b"not an image at all")
    assert upload(browser, world, notes) == "error:not_an_image"
    blank = tmp_path / "blank.png"
    blank.write_bytes(encoded(page_image(None)))
    assert upload(browser, world, blank) == "error:no_code_found"


def test_bad_uploads_get_400_and_413(world: World, copies: Copies, http: httpx.Client) -> None:
    def status_of(answer: httpx.Response) -> tuple[int, str]:
        start = answer.text.find('data-error="')
        return answer.status_code, answer.text[start + 12 : answer.text.find('"', start + 12)]

    assert status_of(http.post("/verify", files={"page": ("x.png", b"text", "image/png")})) == (
        400,
        "not_an_image",
    )
    smudged = encoded(smudged_page(copies.printed.code))
    assert status_of(http.post("/verify", files={"page": ("smudged.png", smudged, "image/png")})) == (
        400,
        "damaged_code",
    )
    too_big = b"\0" * (UPLOAD_LIMIT + 1)
    assert status_of(http.post("/verify", files={"page": ("big.png", too_big, "image/png")})) == (
        413,
        "too_large",
    )

    def chunked() -> Iterator[bytes]:  # no Content-Length: refused as it arrives
        yield b'--b\r\nContent-Disposition: form-data; name="page"; filename="p.png"\r\n\r\n'
        for _ in range(UPLOAD_LIMIT // 65536 + 2):
            yield b"\0" * 65536

    multipart = {"content-type": "multipart/form-data; boundary=b"}
    answer = http.post("/verify", content=chunked(), headers=multipart)
    assert status_of(answer) == (413, "too_large")
    assert status_of(http.post("/verify", content=b"{}", headers={"content-type": "application/json"})) == (
        400,
        "bad_upload",
    )
    assert status_of(http.post("/verify", data={"issue_number": "", "code": ""})) == (400, "bad_form")
    broken = http.post("/verify", content=b"--b\r\nbroken", headers=multipart)
    assert status_of(broken) == (400, "bad_form")  # no file in it, and no typed fields either
    # the API's own limit is untouched: 64 KiB
    assert http.post("/v1/sessions", content=b"\0" * 70_000).json()["error"] == "body_too_large"


def test_without_the_published_keys_an_upload_is_unknown(
    world: World, copies: Copies, http: httpx.Client, tmp_path: Path
) -> None:
    keys = world.stack.center_dir / KEYS_FILE
    scan = encoded(page_image(copies.printed.code))
    shutil.move(keys, tmp_path / KEYS_FILE)
    try:
        answer = http.post("/verify", files={"page": ("scan.png", scan, "image/png")})
        assert answer.status_code == 200 and 'data-reason="unknown_key"' in answer.text
        assert http.get("/verify/keys.json").json() == []
    finally:
        shutil.move(tmp_path / KEYS_FILE, keys)
    answer = http.post("/verify", files={"page": ("scan.png", scan, "image/png")})
    assert 'data-outcome="genuine"' in answer.text


def test_the_center_publishes_its_keys_and_koufu_verify_can_use_them(
    world: World, copies: Copies, http: httpx.Client, tmp_path: Path
) -> None:
    published = http.get("/verify/keys.json").json()
    assert published == json.loads(copies.keys_file.read_text())
    scan = tmp_path / "scan.png"
    scan.write_bytes(encoded(page_image(copies.printed.code)))
    done = koufu_verify(scan, "--center", world.stack.center_url, "--ca", world.stack.center_tls)
    assert done.returncode == 0 and done.stdout.startswith("genuine  "), done.stderr


def test_the_center_s_log_names_no_one(world: World, copies: Copies, http: httpx.Client) -> None:
    answer = http.post(
        "/verify", files={"page": ("scan.png", encoded(page_image(copies.printed.code)), "image/png")}
    )
    assert 'data-outcome="genuine"' in answer.text
    log = world.stack.center_log.read_text(encoding="utf-8", errors="replace")
    assert not [name for name in names(copies) if name in log]
    assert copies.printed.code.claims.verification_code not in log
