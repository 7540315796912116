"""A real headless Chromium (Debian's) driven by Playwright; screenshots go to test-output/."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """The browser; skipped (failed under CI) where Chromium or Playwright is missing."""
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed")
    if not Path(executable).exists():
        _unavailable("Chromium is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI needs a browser: {reason}")
    pytest.skip(reason)


@pytest.fixture
def page(chromium: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh page (its own cookies) that records console errors (as "url text"),
    screenshotted at the end."""
    context = chromium.new_context(ignore_https_errors=True)
    tab = context.new_page()
    tab.console_errors = []

    def on_console(message: Any) -> None:
        if message.type == "error":
            tab.console_errors.append(f"{message.location.get('url', '')} {message.text}")

    tab.on("console", on_console)
    tab.on("pageerror", lambda error: tab.console_errors.append(f"{tab.url} {error}"))
    yield tab
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SCREENSHOTS / f"{request.node.name}.png"), full_page=True)
    context.close()
