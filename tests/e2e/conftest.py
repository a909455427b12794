"""Fixtures every browser test shares: one Chromium per test, and where its
screenshots go (the test's tmp folder, or BACKROOM_SCREENS_DIR=docs/screens to
refresh the README's pictures)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e.browser import launch, serve_stack


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so a fixture can tell the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        the_browser = launch(playwright)
        try:
            yield the_browser
        finally:
            the_browser.close()


@pytest.fixture
def screens(tmp_path) -> Path:
    folder = Path(os.environ.get("BACKROOM_SCREENS_DIR") or tmp_path / "screens")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def console_stack(request, tmp_path):
    """A seeded hub under `hub serve` with a console administrator (tests.e2e.test_browser_console)."""
    from tests.e2e.test_browser_console import ConsoleStack

    yield from serve_stack(request, ConsoleStack(tmp_path))
