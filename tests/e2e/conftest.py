"""Real headless Chromium (Debian's package) driven by Playwright, for the browser tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support.tools import require_tool

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip


def require_chromium() -> str:
    """Chromium's path; skipped loudly where it is missing, required where CI is set."""
    require_tool("chromium", found=Path(CHROMIUM).exists(), how_to_get_it=".ci/run installs Debian's chromium package")
    return CHROMIUM


@pytest.fixture
def page():
    chromium = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser.new_page()
        finally:
            browser.close()
