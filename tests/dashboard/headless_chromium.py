"""Headless Chromium from the distribution's packages, driven by Selenium through the distribution's chromedriver,
for the dashboard's browser tests and its first-paint benchmark. Selenium Manager is never asked for a browser or a
driver (explicit paths, SE_OFFLINE), and the browser's own calls home are switched off."""

from __future__ import annotations

import os
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = (
    "--headless=new",
    "--no-sandbox",  # the tests may run as root in a container
    "--disable-dev-shm-usage",
    # No calls home: every host name fails to resolve (the page is at 127.0.0.1, an address), and no component
    # updates, sync, field trials, pings or default apps are even tried.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--disable-background-networking",
    "--disable-domain-reliability",
    "--no-pings",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--no-first-run",
    "--disable-field-trial-config",
)


def missing_browser() -> str | None:
    """Why the browser cannot start (Chromium or its driver not installed), or None."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    return f"{', '.join(missing)} not installed (apt-get install chromium chromium-driver)" if missing else None


def chromium(width: int = 1400, height: int = 2200) -> WebDriver:
    """A headless Chromium window of this size."""
    os.environ["SE_OFFLINE"] = "true"
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--window-size={width},{height}"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
