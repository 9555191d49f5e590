"""The center's verification page, served by the real center process over TLS and used through
headless Chromium: a scan or a photo uploaded, an issue number and a code typed, bad uploads. The
page shows the verdict and, where the page code's signature verified, the signed content: the
statement, the uploaded picture beside the page as issued (side by side on a desktop, stacked on a
phone) and the content's lines. The residents' names are planted canaries: shown only to whoever
uploads a genuinely signed page, never for a typed number or a code that does not verify, and in
no log. Screenshots (ja, en; phone and desktop) are taken here; ``make verify-screenshots`` keeps
them in ``docs/screenshots/``."""

from __future__ import annotations

import base64
import io
import json
import shutil
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from center.verify_page import KEYS_FILE, UPLOAD_LIMIT
from documents import tokyo_day
from printing.page_code import read_page_code
from support.forgeries import page_with, with_name
from support.headless_chromium import SCREENSHOT_LIMIT, headless_chromium, keep, small_png
from support.page_images import encoded, page_image, pdf_of, photo_of, smudged_page
from support.verification import Copies, Issued, issue_copies, koufu_verify
from support.world import World, running_world

PAGE_LOAD = 60  # seconds Chromium may take for a page (a bound on waiting, not a measurement)
PHONE = (390, 844)  # CSS pixels: a phone's viewport
DESKTOP = (1280, 900)
SCREENSHOTS = "KOUFU_VERIFY_SCREENSHOTS"  # a directory: the screenshots are kept there too


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
    with headless_chromium("--ignore-certificate-errors", page_load=PAGE_LOAD) as driver:
        yield driver


@pytest.fixture
def http(world: World) -> Iterator[httpx.Client]:
    tls = ssl.create_default_context(cafile=world.stack.center_tls)
    with httpx.Client(base_url=world.stack.center_url, verify=tls, timeout=60) as client:
        yield client


def names(copies: Copies) -> list[str]:
    """Every resident's name and its parts (family, given), as the documents hold them."""
    full = [copies.printed.name, copies.voided.name, copies.not_printed.name]
    return full + [part for name in full for part in name.split("　")]


def code_of(issued: Issued) -> str:
    """The text of the copy's page code (``KF2:…``), as its page prints it."""
    return issued.document.page_codes[0]


def scan_of(issued: Issued) -> Image.Image:
    """A plain page with the copy's genuine page code (no printed content)."""
    return page_image(None, text=code_of(issued))


def forged(issued: Issued, name: str) -> Image.Image:
    """The copy's page drawn with another name, and its genuine code."""
    text = code_of(issued)
    code = read_page_code(text)
    return page_with(code, with_name(code.claims.content, name), qr=text, dpi=200)


def viewport(browser: WebDriver, size: tuple[int, int]) -> None:
    width, height = size
    browser.execute_cdp_cmd(  # type: ignore[attr-defined]
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
    )


def pictures(browser: WebDriver) -> dict[str, dict[str, float]]:
    """The first result's two pictures: their bounding rects, after checking they are images."""
    found = {}
    for kind in ("uploaded", "issued"):
        image = browser.find_element(By.CSS_SELECTOR, f"#result .verdict img.{kind}")
        assert image.get_attribute("alt")
        source = str(image.get_attribute("src"))
        head, _, data = source.partition(",")
        assert head in ("data:image/png;base64", "data:image/jpeg;base64")
        with Image.open(io.BytesIO(base64.b64decode(data)), formats=["PNG", "JPEG"]) as decoded:
            assert decoded.width <= 800 and decoded.height > decoded.width  # an A4 page, downscaled
        found[kind] = browser.execute_script("return arguments[0].getBoundingClientRect().toJSON()", image)
    return found


def content_shown(browser: WebDriver) -> str:
    return " ".join(e.text for e in browser.find_elements(By.CSS_SELECTOR, "#result dl.content dd"))


def result_of(browser: WebDriver) -> str:
    """Waits for the result page; its verdict's outcome (or ``error:<code>``)."""
    WebDriverWait(browser, PAGE_LOAD).until(
        lambda b: b.find_elements(By.CSS_SELECTOR, "#result .verdict, #result .error")
    )
    verdicts = browser.find_elements(By.CSS_SELECTOR, "#result .verdict")
    if verdicts:
        return ",".join(str(v.get_attribute("data-outcome")) for v in verdicts)
    return f"error:{browser.find_element(By.CSS_SELECTOR, '#result .error').get_attribute('data-error')}"


def upload(browser: WebDriver, world: World, path: Path, lang: str = "ja") -> str:
    browser.get(f"{world.stack.center_url}/verify?lang={lang}")
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
    assert "img-src data:" in answer.headers["content-security-policy"]
    assert (
        answer.headers["cache-control"] == "no-store" and answer.headers["referrer-policy"] == "no-referrer"
    )
    assert '<html lang="ja">' in answer.text and 'name="viewport"' in answer.text
    assert 'capture="environment"' in answer.text and 'accept="image/*,application/pdf"' in answer.text
    assert answer.text.count('type="file"') == 2  # the camera, and a plain file choice
    english = http.get("/verify?lang=en")
    assert '<html lang="en">' in english.text
    assert english.text.index("Verify a printed certificate") < english.text.index("証明書の確認</")
    assert '<html lang="en">' in http.get("/verify", headers={"accept-language": "en-GB,en;q=0.8"}).text


def test_an_uploaded_scan_of_a_printed_copy_is_genuine_and_shows_what_its_code_states(
    browser: WebDriver, world: World, copies: Copies, tmp_path: Path
) -> None:
    scan = tmp_path / "scan.png"
    scan.write_bytes(encoded(scan_of(copies.printed)))  # the code alone: no name printed on it
    assert upload(browser, world, scan) == "genuine"
    shown = browser.find_element(By.ID, "result").text
    assert copies.printed.code.claims.issue_number in shown and "千代田区" in shown and "1 / 1" in shown
    assert copies.printed.document.document.content_hash() in shown
    statement = browser.find_element(By.CSS_SELECTOR, "#result .statement").text
    assert f"この内容は、千代田区が{issued_day(copies.printed)}に交付番号 " in statement
    assert "お手元の用紙の記載と見比べてください。" in statement
    assert "compare it with the paper in your hand" in statement.lower()
    assert copies.printed.name in content_shown(browser)  # the signed content, read from the code
    others = [copies.voided.name, copies.not_printed.name]
    assert not [name for name in others if name in browser.page_source]


def issued_day(issued: Issued) -> str:
    day = tokyo_day(issued.document.document.issued_at)
    return f"{day.year}年{day.month}月{day.day}日"


def test_a_really_rendered_page_is_shown_beside_the_page_as_issued_side_by_side_and_stacked_on_a_phone(
    browser: WebDriver, world: World, copies: Copies, tmp_path: Path
) -> None:
    printed = tmp_path / "printed.png"
    printed.write_bytes(encoded(copies.printed.rendered(world.trust, dpi=200)[0]))
    assert printed.stat().st_size < UPLOAD_LIMIT
    try:
        viewport(browser, DESKTOP)
        assert upload(browser, world, printed) == "genuine"
        assert copies.printed.name in content_shown(browser)
        wide = pictures(browser)
        assert wide["uploaded"]["top"] == wide["issued"]["top"]  # side by side
        assert wide["uploaded"]["right"] <= wide["issued"]["left"]
        viewport(browser, PHONE)
        narrow = pictures(browser)
        assert narrow["uploaded"]["bottom"] <= narrow["issued"]["top"]  # stacked
        assert narrow["issued"]["right"] <= PHONE[0]  # nothing wider than the phone
        assert browser.execute_script("return document.documentElement.scrollWidth") <= PHONE[0]
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})  # type: ignore[attr-defined]


def test_a_pdf_of_the_printed_page_is_genuine_with_both_pictures(
    browser: WebDriver, world: World, copies: Copies, tmp_path: Path
) -> None:
    printed = tmp_path / "printed.pdf"
    printed.write_bytes(pdf_of(*copies.printed.rendered(world.trust)))
    assert printed.stat().st_size < UPLOAD_LIMIT
    assert upload(browser, world, printed) == "genuine"
    assert copies.printed.code.claims.issue_number in browser.find_element(By.ID, "result").text
    assert set(pictures(browser)) == {"uploaded", "issued"}
    assert copies.printed.name in content_shown(browser)  # the signed content, nobody else's
    assert not [name for name in (copies.voided.name, copies.not_printed.name) if name in browser.page_source]


def test_a_forged_page_with_a_genuine_code_shows_the_genuine_content(
    browser: WebDriver, world: World, copies: Copies, tmp_path: Path
) -> None:
    forger = "偽造　太郎"
    page = tmp_path / "forged.png"
    page.write_bytes(encoded(forged(copies.printed, forger)))
    assert upload(browser, world, page) == "genuine"  # the code is genuine: the paper is compared
    shown = content_shown(browser)
    assert copies.printed.name in shown and forger not in shown
    issued = browser.find_element(By.CSS_SELECTOR, "#result img.issued").get_attribute("src")
    uploaded = browser.find_element(By.CSS_SELECTOR, "#result img.uploaded").get_attribute("src")
    assert issued != uploaded


def test_a_photo_of_a_voided_copy_is_shown_voided_with_its_content_marked(
    browser: WebDriver, world: World, copies: Copies, tmp_path: Path
) -> None:
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(photo_of(scan_of(copies.voided)))
    assert upload(browser, world, photo) == "voided"
    result = browser.find_element(By.ID, "result").text
    assert "この写しは取り消されています。" in result
    assert "取り消された写しの記載事項です。" in result
    assert copies.voided.name in content_shown(browser)


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
    scan = encoded(scan_of(copies.printed))
    shutil.move(keys, tmp_path / KEYS_FILE)
    try:
        answer = http.post("/verify", files={"page": ("scan.png", scan, "image/png")})
        assert answer.status_code == 200 and 'data-reason="unknown_key"' in answer.text
        assert not [name for name in names(copies) if name in answer.text]  # no content unverified
        assert "<img" not in answer.text
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
    for issued in (copies.printed, copies.voided):
        answer = http.post("/verify", files={"page": ("scan.png", encoded(scan_of(issued)), "image/png")})
        assert issued.name in answer.text  # shown to whoever holds the paper, and only there
        assert answer.headers["cache-control"] == "no-store"
    log = world.stack.center_log.read_text(encoding="utf-8", errors="replace")
    assert not [name for name in names(copies) if name in log]
    assert copies.printed.code.claims.verification_code not in log


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_screenshots_of_the_result_on_a_phone_and_a_desktop(
    browser: WebDriver, world: World, copies: Copies, tmp_path: Path, lang: str
) -> None:
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(photo_of(copies.printed.rendered(world.trust)[0]))
    try:
        for device, size in (("phone", PHONE), ("desktop", DESKTOP)):
            viewport(browser, size)
            assert upload(browser, world, photo, lang) == "genuine"
            assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang
            shot = screenshot(browser, tmp_path / f"verify-result-{lang}-{device}.png")
            with Image.open(shot) as image:
                assert size[0] - 20 <= image.width <= size[0] and image.height >= size[1] // 2
            assert shot.stat().st_size < SCREENSHOT_LIMIT
            keep(shot, SCREENSHOTS)
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})  # type: ignore[attr-defined]


def screenshot(browser: WebDriver, path: Path) -> Path:
    """The page down to the end of the first result, as a small PNG (32 colours)."""
    bottom = browser.execute_script(
        "const r = document.querySelector('#result .verdict').getBoundingClientRect();"
        "return Math.ceil(r.bottom + window.scrollY + 16);"
    )
    return small_png(browser, path, bottom)
