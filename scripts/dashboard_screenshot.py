"""docs/dashboard.png: the dashboard over a run store (a DuckDB file or a PostgreSQL URL), its highest-priority
customer opened, taken by the distribution's headless Chromium. docs/dashboard.md says how its store was made.

    python scripts/dashboard_screenshot.py --store output/history.duckdb [--out docs/dashboard.png]
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "dashboard"), str(ROOT / "tests"), str(ROOT / "src")]

from headless_chromium import chromium, missing_browser  # test helpers, importable once the path is set
from selenium.webdriver.common.by import By
from werkzeug.serving import make_server

from cross_sell_upsell.dashboard.app import create_app


def _until(check, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit("the page did not draw in time")
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", required=True, help="the run store to show: a DuckDB file or a postgresql:// URL")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "dashboard.png")
    args = parser.parse_args()
    if (reason := missing_browser()) is not None:
        raise SystemExit(reason)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, create_app(args.store).server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    browser = chromium(1280, 1900)
    try:
        browser.get(f"http://127.0.0.1:{server.port}/")
        _until(lambda: browser.find_elements(By.CSS_SELECTOR, "#top-customers button"))
        browser.find_elements(By.CSS_SELECTOR, "#top-customers button")[0].click()
        _until(lambda: browser.find_elements(By.ID, "offers-table"))
        time.sleep(1)  # the charts' transitions
        height = browser.execute_script("return document.body.scrollHeight")
        browser.set_window_size(1280, height + 160)  # the window's own frame is not page
        browser.save_screenshot(str(args.out))
    finally:
        browser.quit()
        server.shutdown()
    print(args.out)


if __name__ == "__main__":
    main()
