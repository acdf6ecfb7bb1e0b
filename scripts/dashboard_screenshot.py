"""docs/dashboard.png: the dashboard over the tests' hand-built two-run store, customer C1 opened, taken by the
distribution's headless Chromium.

    python scripts/dashboard_screenshot.py [--out docs/dashboard.png]
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "dashboard"), str(ROOT / "tests"), str(ROOT / "src")]

from headless_chromium import chromium, missing_browser  # test helpers, importable once the path is set
from selenium.webdriver.common.by import By
from store_tables import build_store
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
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "dashboard.png")
    args = parser.parse_args()
    if (reason := missing_browser()) is not None:
        raise SystemExit(reason)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as scratch:
        server = make_server("127.0.0.1", 0, create_app(build_store(Path(scratch) / "history.duckdb")).server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        browser = chromium(1280, 1900)
        try:
            browser.get(f"http://127.0.0.1:{server.port}/")
            _until(lambda: browser.find_elements(By.CSS_SELECTOR, "#top-customers button"))
            (c1,) = [b for b in browser.find_elements(By.CSS_SELECTOR, "#top-customers button") if b.text == "C1"]
            c1.click()
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
