"""The build report in a real browser: headless Chromium opens ``report.html`` from disk (``file://``).

Needs Chromium and its driver (``make browser``) and the 3D viewer script (``make viewer``); the module is
skipped, saying which is missing, without them. WebGL runs on SwiftShader (software), so the 3D view renders
on a machine with no GPU.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from moldstack.build_status import StageStatus
from moldstack.report import viewer
from moldstack.report.page import SECTION_IDS, write_report
from tests.conftest import EXAMPLES

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


def _missing() -> str | None:
    if not CHROMIUM.is_file() and shutil.which("chromium") is None:
        return "chromium is not installed (make browser)"
    if not CHROMEDRIVER.is_file() and shutil.which("chromedriver") is None:
        return "chromedriver is not installed (make browser)"
    if viewer.asset_path() is None:
        return "the 3D viewer script is not installed (make viewer)"
    try:
        import selenium  # noqa: F401, PLC0415
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    return None


pytestmark = pytest.mark.skipif(_missing() is not None, reason=str(_missing()))

if _missing() is None:
    from selenium import webdriver
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support.ui import WebDriverWait


@pytest.fixture(scope="module")
def page(claim21_build: tuple[Path, list[StageStatus]]) -> Path:
    out, stages = claim21_build
    spec = EXAMPLES / "claim21_plated_via.yaml"
    return write_report(out, stages, spec_text=spec.read_text(), spec_name=str(spec))


@pytest.fixture(scope="module")
def browser(page: Path) -> Iterator[tuple[WebDriver, list[dict[str, Any]]]]:
    """Chromium on the report, once the model viewer has loaded; with the console messages of the load."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM if CHROMIUM.is_file() else shutil.which("chromium"))
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--use-angle=swiftshader",
        "--enable-unsafe-swiftshader",
        "--window-size=1400,1000",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver_path = CHROMEDRIVER if CHROMEDRIVER.is_file() else Path(str(shutil.which("chromedriver")))
    driver = webdriver.Chrome(service=Service(str(driver_path)), options=options)
    try:
        driver.get(page.as_uri())
        WebDriverWait(driver, 90).until(
            lambda d: d.execute_script("return document.getElementById('model-viewer').dataset.loaded || ''")
        )
        yield driver, driver.get_log("browser")
    finally:
        driver.quit()


def animation_frames(driver: WebDriver, n: int) -> None:
    """Return once the page has drawn ``n`` more animation frames."""
    driver.set_script_timeout(60)
    driver.execute_async_script(
        "const done = arguments[arguments.length - 1]; let k = 0;"
        f"const step = () => (++k >= {n} ? done(k) : requestAnimationFrame(step)); requestAnimationFrame(step);"
    )


def test_the_page_opens_from_disk_without_console_errors(
    browser: tuple[WebDriver, list[dict[str, Any]]],
) -> None:
    driver, log = browser
    assert driver.current_url.startswith("file://")
    severe = [entry["message"] for entry in log if entry["level"] == "SEVERE"]
    assert not severe, severe
    ids = [s.get_attribute("id") for s in driver.find_elements(By.CSS_SELECTOR, "main > section")]
    assert ids == list(SECTION_IDS)
    for sid in SECTION_IDS:
        assert driver.find_element(By.CSS_SELECTOR, f"nav a[href='#{sid}']").is_displayed()


def test_the_3d_view_shows_the_model(browser: tuple[WebDriver, list[dict[str, Any]]]) -> None:
    from PIL import Image  # noqa: PLC0415 - matplotlib's dependency

    driver, _ = browser
    element = driver.find_element(By.ID, "model-viewer")
    assert element.get_attribute("data-loaded") == "true"
    assert driver.execute_script("return arguments[0].loaded", element) is True
    driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", element)
    png = None
    for _ in range(3):
        # software WebGL: the first frames after the view scrolls in are slow (shaders, environment map); a
        # screenshot asked for while they render times out, so wait for a few frames to have been drawn
        animation_frames(driver, 5)
        try:
            png = element.screenshot_as_png
            break
        except TimeoutException:
            continue
    assert png is not None, "no screenshot of the 3D view"
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).reshape(-1, 3)
    colours, counts = np.unique(pixels, axis=0, return_counts=True)
    assert len(colours) > 200, f"{len(colours)} colours: the view looks blank"
    assert counts.max() / len(pixels) < 0.9
    # the die (blue-grey silicon) and the copper units show through the translucent mold
    r, g, b = pixels[:, 0].astype(int), pixels[:, 1].astype(int), pixels[:, 2].astype(int)
    assert np.count_nonzero((b > r + 25) & (b > g + 5)) > 1000
    assert np.count_nonzero((r > b + 40) & (r > 120)) > 100


def test_the_step_slider_changes_the_frame(browser: tuple[WebDriver, list[dict[str, Any]]]) -> None:
    driver, _ = browser
    player = driver.find_element(By.ID, "process-player")
    controls = player.find_element(By.CSS_SELECTOR, ".controls")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", controls)

    def shown() -> tuple[str, str, str]:
        [figure] = [f for f in player.find_elements(By.CSS_SELECTOR, "figure.frame") if f.is_displayed()]
        image = figure.find_element(By.TAG_NAME, "img").get_attribute("src") or ""
        caption = figure.find_element(By.TAG_NAME, "figcaption").text
        return image, caption, player.find_element(By.CSS_SELECTOR, ".status").text

    first = shown()
    assert first[1].startswith("Step 1: provide a sacrificial layer")
    assert player.find_element(By.CSS_SELECTOR, "button.prev").get_attribute("disabled") is not None
    player.find_element(By.CSS_SELECTOR, "button.next").click()
    second = shown()
    assert second[0] != first[0] and second[1] != first[1] and second[2] != first[2]
    assert second[1].startswith("Step 2: provide the dielectric base")
    slider = player.find_element(By.CSS_SELECTOR, "input[type=range]")
    slider.send_keys(Keys.ARROW_RIGHT)
    third = shown()
    assert third[1].startswith("Step 3") and third[0] != second[0]
    assert slider.get_attribute("value") == "2"
    slider.send_keys(Keys.END)
    last = shown()
    frames = player.find_elements(By.CSS_SELECTOR, "figure.frame")
    assert slider.get_attribute("value") == str(len(frames) - 1)
    assert "remove the sacrificial layers" in last[1]
    assert player.find_element(By.CSS_SELECTOR, "button.next").get_attribute("disabled") is not None
