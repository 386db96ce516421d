"""The pages in a real browser: headless Chromium driven by Selenium, through the explorer served by
`agree explore` and through a report written by `agree show --format html`.

Skipped, with the reason, only where Chromium, chromedriver or Selenium is missing; `.ci/run`
installs them and sets AGREE_REQUIRE_BROWSER=1, which turns that skip into a failure. Screenshots
go to the test's temporary folder (AGREE_SCREENSHOTS names another folder to keep them).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
DRIVER = shutil.which("chromedriver")
try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:  # pragma: no cover - reported as the skip reason below
    webdriver = None

MISSING = ("selenium is not installed (pip install -e '.[test]')" if webdriver is None else
           "chromium is not installed (apt-get install chromium chromium-driver)" if CHROMIUM is None else
           "chromedriver is not installed (apt-get install chromium-driver)" if DRIVER is None else None)
if MISSING and os.environ.get("AGREE_REQUIRE_BROWSER") == "1":
    raise RuntimeError(f"the browser tests must run here (AGREE_REQUIRE_BROWSER=1), but {MISSING}")
pytestmark = pytest.mark.skipif(MISSING is not None, reason=f"no browser to test with: {MISSING}")

TRACE = ROOT / "counterexamples" / "twophase--tm-commits-early.json"


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    kept = os.environ.get("AGREE_SCREENSHOTS")
    folder = Path(kept) if kept else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def downloads(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(downloads):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--window-size=1360,900"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def explorer():
    """`agree explore` on the variant whose TM commits before every RM has prepared, on a free port."""
    proc = subprocess.Popen([sys.executable, "-m", "explorer", "explore", "twophase", "-p", "rms=2",
                             "--variant", "tm-commits-early", "--port", "0"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    assert line.startswith("agree explore: http://127.0.0.1:"), line + proc.stderr.read()
    yield line.split()[2]
    proc.terminate()
    proc.wait(timeout=20)


def wait_for(browser, condition, what: str):
    return WebDriverWait(browser, 15, poll_frequency=0.05).until(lambda d: condition(d), message=what)


def text(browser, css: str) -> str:
    """The text of the first element matching `css`, read in one go (the page redraws often)."""
    return browser.execute_script("var e = document.querySelector(arguments[0]); return e ? e.textContent : ''", css)


def settled(browser):
    """The page has applied the server's latest answer."""
    wait_for(browser, lambda d: d.execute_script("return !document.body.classList.contains('busy')"), "a reply")


def take(browser, label: str) -> None:
    before = text(browser, "#path")
    button = next(b for b in browser.find_elements(By.CSS_SELECTOR, "#enabled button.take")
                  if b.text.split(". ", 1)[-1] == label)
    button.click()
    wait_for(browser, lambda d: text(d, "#path") != before, f"the step {label}")
    settled(browser)


def screenshot(browser, path: Path) -> None:
    """The page as tall as its content (small PNGs for the README), then the window as before."""
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1360, min(900, height + 100))
    browser.save_screenshot(str(path))
    browser.set_window_size(1360, 900)


def property_row(browser, name: str):
    return browser.find_element(By.CSS_SELECTOR, f'#properties tr[data-name="{name}"]')


def test_explorer_three_steps_turn_consistent_red_then_back_save_and_replay(browser, explorer, shots, downloads):
    browser.get(explorer)
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#enabled button.take"), "the enabled steps")
    assert "violated" not in property_row(browser, "consistent").get_attribute("class")
    # the broken TMCommit is enabled at once; an RM that aborts on its own, then one that obeys
    # the Commit, leave one RM aborted and one committed: TCConsistent fails (Gray & Lamport 2006)
    for label in ("TMCommit", "RMChooseToAbort(rm=r1)", "RMRcvCommitMsg(rm=r2)"):
        take(browser, label)
    row = property_row(browser, "consistent")
    assert "violated" in row.get_attribute("class") and "violated" in row.text
    status = row.find_element(By.CSS_SELECTOR, "td.status")
    assert status.value_of_css_property("color") == "rgba(201, 42, 42, 1)"  # red: #c92a2a in explorer.css
    assert browser.find_element(By.CSS_SELECTOR, "#diagram g.step.selected").get_attribute("data-step") == "3"
    assert "consistent violated" in browser.find_element(By.ID, "diagram").text
    screenshot(browser, shots / "explorer.png")

    browser.find_element(By.ID, "back").click()
    wait_for(browser, lambda d: text(d, '#properties tr[data-name="consistent"] td.status') == "holds", "back")
    assert browser.find_element(By.CSS_SELECTOR, "#path li.selected").text == "2. RMChooseToAbort(rm=r1)"
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ARROW_RIGHT)  # forward along the kept path
    wait_for(browser, lambda d: text(d, '#properties tr[data-name="consistent"] td.status') == "violated", "forward")

    browser.find_element(By.ID, "save").click()
    saved = downloads / "twophase-path.json"
    wait_for(browser, lambda d: saved.is_file() and saved.stat().st_size > 0, "the saved trace")
    time.sleep(0.2)  # let Chromium finish renaming its partial download
    ran = subprocess.run([sys.executable, "-m", "explorer", "replay", str(saved)], cwd=ROOT,
                         capture_output=True, text=True)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "reproduces: all 3 steps replay and consistent is violated" in ran.stdout


def test_explorer_loads_a_trace_and_asks_the_checker_for_a_counterexample(browser, explorer):
    browser.get(explorer)
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#enabled button.take"), "the page")
    browser.find_element(By.ID, "load").send_keys(str(TRACE))
    wait_for(browser, lambda d: "loaded a trace of 3 steps" in text(d, "#message"), "the load")
    browser.find_element(By.CSS_SELECTOR, '#path li[data-step="0"]').click()  # jump to the start
    wait_for(browser, lambda d: text(d, "#path li.selected") == "0. initial state", "the jump")
    browser.find_element(By.ID, "counterexample").click()
    wait_for(browser, lambda d: "shortest counterexample" in text(d, "#message"), "the search")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#path li")) == 4  # initial state + 3 steps


def test_report_steps_through_with_the_keyboard(browser, shots, tmp_path):
    page = tmp_path / "trace.html"
    subprocess.run([sys.executable, "-m", "explorer", "show", str(TRACE), "--format", "html", "-o", str(page)],
                   cwd=ROOT, check=True, capture_output=True)
    browser.get(page.as_uri())
    selected = lambda d: d.find_element(By.CSS_SELECTOR, ".viewer").get_attribute("data-selected")  # noqa: E731
    wait_for(browser, lambda d: selected(d) == "0", "the page script")
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.ARROW_DOWN)
    body.send_keys("j")
    assert selected(browser) == "2"
    visible = browser.find_element(By.CSS_SELECTOR, ".state:not([hidden])")
    assert visible.get_attribute("data-step") == "2"
    # step 2 is RMChooseToAbort(rm=r1): position 0 of rm_state changed, nothing else
    changed = visible.find_elements(By.CSS_SELECTOR, "li.item.changed")
    assert [(c.find_element(By.CLASS_NAME, "index").text, c.find_element(By.CLASS_NAME, "value").text)
            for c in changed] == [("r1", "aborted")]  # the node name, as the text trace says rm_state[r1]
    assert browser.find_element(By.CSS_SELECTOR, ".diagram g.step.selected").get_attribute("data-step") == "2"
    body.send_keys(Keys.END)
    assert selected(browser) == "3"
    screenshot(browser, shots / "report.png")
    body.send_keys("k")
    body.send_keys(Keys.HOME)
    assert selected(browser) == "0"
