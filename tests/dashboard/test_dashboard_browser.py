"""The dashboard in a real browser: the distribution's headless Chromium, driven by Selenium through the
distribution's chromedriver (Selenium Manager is never asked for a driver: SE_OFFLINE and explicit paths). The page
is served on 127.0.0.1 over the hand-built store of store_tables.py; every number is worked out from its rows.

Skipped when Chromium is not installed, except under CI (`CI=true`), where that is a failure."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from headless_chromium import chromium, missing_browser
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from store_tables import build_store
from werkzeug.serving import make_server

from cross_sell_upsell.dashboard.app import create_app

WAIT_SECONDS = 20


def chrome() -> WebDriver:
    """The browser; skipped when it is not installed, but under CI (`CI=true`) that is a failure."""
    reason = missing_browser()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs the browser tests: {reason}")
        pytest.skip(reason)
    return chromium()


@pytest.mark.parametrize(("ci", "outcome"), [("true", pytest.fail.Exception), ("", pytest.skip.Exception)])
def test_without_chromium_the_tests_skip_but_ci_fails(monkeypatch: pytest.MonkeyPatch, ci: str, outcome) -> None:
    monkeypatch.setattr(sys.modules[__name__], "missing_browser", lambda: "/usr/bin/chromium not installed")
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="/usr/bin/chromium not installed"):
        chrome()


def wait_for(check: Callable[[], object], what: str) -> object:
    """`check()`'s first truthy value, polled until WAIT_SECONDS have passed."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        try:
            value = check()
        except WebDriverException:  # an element redrawn between find and read, or not drawn yet: poll again
            value = None
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def serve_in_thread(store: Path) -> Iterator[str]:
    """The dashboard over `store` on a free port of 127.0.0.1, as its URL; stopped when the generator closes."""
    server = make_server("127.0.0.1", 0, create_app(store).server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}/"
    finally:
        server.shutdown()
        thread.join()


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from serve_in_thread(build_store(tmp_path_factory.mktemp("store") / "history.duckdb"))


@pytest.fixture(scope="module")
def browser(url: str) -> Iterator[WebDriver]:
    """The page, loaded once: the tests below read it in file order, the filter last (it narrows what follows)."""
    driver = chrome()
    driver.get(url)
    yield driver
    driver.quit()


def text(browser: WebDriver, id_: str) -> str:
    return browser.find_element(By.ID, id_).text


def kpis(browser: WebDriver) -> dict[str, str]:
    ids = ("kpi-customers", "kpi-expected-revenue", "kpi-hit-rate", "kpi-hit-rate-detail", "kpi-churn")
    return {id_: text(browser, id_) for id_ in ids}


def expect(read: Callable[[], object], expected: object) -> None:
    """Waits until `read()` gives `expected` (the page updates after a callback), then checks it."""
    wait_for(lambda: read() == expected, f"{expected}")
    assert read() == expected


def test_the_page_opens_on_the_latest_runs_kpis(browser: WebDriver) -> None:
    # R2: 2 + 1 + 1 + 1 customers; offers 25 + 15 + 50 + 12; R1's offers measured: 2 of 5 bought;
    # churn (0.6 + 0.2 + 0.2) over the 4 customers with a churn probability.
    expect(
        lambda: kpis(browser),
        {
            "kpi-customers": "5",
            "kpi-expected-revenue": "$102.00",
            "kpi-hit-rate": "40.0%",
            "kpi-hit-rate-detail": "2 of 5 offers bought",
            "kpi-churn": "25.0%",
        },
    )
    assert "2024-03-08" in text(browser, "filter-run")


def test_the_trend_chart_has_one_point_per_run(browser: WebDriver) -> None:
    def traces() -> list[dict]:
        return browser.execute_script(
            "const plot = document.querySelector('#trend-revenue .js-plotly-plot');"
            "return plot && plot.data && plot.data.map(trace => ({x: trace.x, y: trace.y, name: trace.name}));"
        )

    expected, potential = wait_for(traces, "the revenue trend")
    assert expected == {"x": ["2024-03-01", "2024-03-08"], "y": [100.0, 102.0], "name": "expected"}
    assert potential == {"x": ["2024-03-01", "2024-03-08"], "y": [350.0, 340.0], "name": "potential"}
    rendered = browser.find_elements(By.CSS_SELECTOR, "#trend-revenue .scatterlayer .trace:first-child .point")
    assert len(rendered) == 2


def offers_rows(browser: WebDriver) -> list[list[str]]:
    rows = browser.find_elements(By.CSS_SELECTOR, "#offers-table tbody tr")
    return [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")] for row in rows]


def top_customers(browser: WebDriver) -> list[str]:
    return [button.text for button in browser.find_elements(By.CSS_SELECTOR, "#top-customers button")]


def test_clicking_a_top_customer_shows_their_offers_and_rationale_as_text(browser: WebDriver) -> None:
    expect(lambda: top_customers(browser), ["C4", "C1", "C2", "C5"])  # R2's priority ranks 1 to 4
    (c1,) = [
        button for button in browser.find_elements(By.CSS_SELECTOR, "#top-customers button") if button.text == "C1"
    ]
    c1.click()
    summary = "C1: segment Value, tier Gold, priority 2, 2 gaps, expected $20.00, churn 30.0%"
    expect(lambda: text(browser, "customer-summary"), summary)
    assert offers_rows(browser) == [
        ["1", "Conditioner", "Cross-sell", "50.0%", "$30.00", "$15.00", "Bought shampoo <b>often</b> & no conditioner"],
        ["2", "Hair oil", "Cross-sell", "20.0%", "$25.00", "$5.00", "Pairs with the shampoo"],
    ]
    assert browser.find_elements(By.CSS_SELECTOR, "#offers-table b") == []  # the rationale's tags are text


def test_a_typed_customer_id_opens_that_customer(browser: WebDriver) -> None:
    box = wait_for(lambda: browser.find_element(By.ID, "customer-id"), "the customer box")
    box.send_keys(Keys.CONTROL, "a")  # the click above left C1 in the box
    box.send_keys("C5", Keys.ENTER)
    c5 = [["1", "Shampoo", "Replenishment", "40.0%", "$30.00", "$12.00", "Due for a refill"]]
    expect(lambda: offers_rows(browser), c5)
    assert text(browser, "customer-summary").endswith("churn n/a")  # C5 has no churn probability
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys("C9", Keys.ENTER)
    answer = "No customer 'C9' in the run of 2024-03-08."
    expect(lambda: text(browser, "customer-summary"), answer)
    assert browser.find_elements(By.ID, "offers-table") == []


def test_a_segment_filter_changes_the_kpis(browser: WebDriver) -> None:
    browser.find_element(By.ID, "filter-segment").click()
    options = wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, ".dash-dropdown-option"), "segment options")
    (value,) = [option for option in options if option.text.strip() == "Value"]
    value.click()
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
    # Value: Gold 2 + Silver 1 customers; offers 25 + 15; R1's Value offers: 1 of 2 + 0 of 1 bought;
    # churn (0.6 + 0.2) / 3.
    expect(
        lambda: kpis(browser),
        {
            "kpi-customers": "3",
            "kpi-expected-revenue": "$40.00",
            "kpi-hit-rate": "33.3%",
            "kpi-hit-rate-detail": "1 of 3 offers bought",
            "kpi-churn": "26.7%",
        },
    )
    expect(lambda: top_customers(browser), ["C1", "C2"])  # Value's ranked customers in R2 (C3 is unranked)
