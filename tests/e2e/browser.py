"""Helpers for real-browser tests: Debian's Chromium driven by Playwright against
a Flet web app, and the hub / floor-app processes those tests run.

Follows the checked recipe in ../shared/notes/flet-web.md: launch /usr/bin/chromium
with fixed flags, block every non-local request, wait for Flet's first frame,
switch on Flutter's semantics tree, and select controls by accessible name."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import httpx
import pytest

__all__ = [
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "chromium_or_skip",
    "launch",
    "open_flet_page",
    "type_into",
    "click",
    "wait_for_text",
    "scan",
    "sign_in",
    "free_port",
    "backroom",
    "start_process",
    "stop_process",
    "wait_http",
    "tail",
]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
_LOCAL = ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")


def chromium_or_skip() -> str:
    """The Chromium binary; skips locally without it, fails in CI (`CI=true`)."""
    found = CHROMIUM if os.path.exists(CHROMIUM) else None
    try:
        import playwright  # noqa: F401
    except ImportError:
        found = None
    if found is None:
        why = f"browser tests need Debian's Chromium at {CHROMIUM} and the playwright package (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(why)
        pytest.skip(why)
    return found


def launch(playwright: Any) -> Any:
    """A headless Chromium browser; never the Playwright-downloaded one."""
    return playwright.chromium.launch(executable_path=chromium_or_skip(), args=CHROMIUM_ARGS, headless=True)


def open_flet_page(browser: Any, url: str, width: int = 412, height: int = 915, timeout_ms: int = 30_000) -> Any:
    """A page with the Flet app loaded and its semantics tree switched on.

    The default viewport is a handheld's (412 × 915 CSS px)."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(_LOCAL) else route.abort())
    page.goto(url)
    page.wait_for_function("() => !document.getElementById('loading')", timeout=timeout_ms)
    page.wait_for_selector("flt-semantics-placeholder", state="attached", timeout=timeout_ms)
    page.evaluate("() => document.querySelector('flt-semantics-placeholder').click()")
    page.wait_for_selector("flt-semantics", state="attached", timeout=timeout_ms)
    return page


def type_into(page: Any, label: str, text: str, enter: bool = True) -> None:
    """Click the text field named `label`, give Flutter time to focus it, then type."""
    page.get_by_role("textbox", name=label).click()
    page.wait_for_timeout(300)
    page.keyboard.type(text)
    if enter:
        page.keyboard.press("Enter")


def click(page: Any, name: str, exact: bool = False) -> None:
    page.get_by_role("button", name=name, exact=exact).first.click()


def wait_for_text(page: Any, text: str, timeout_ms: int = 30_000) -> Any:
    """Wait until `text` shows somewhere in the semantics tree; returns its locator."""
    locator = page.get_by_text(text).first
    locator.wait_for(state="attached", timeout=timeout_ms)
    return locator


ASKED_TO_RESCAN = re.compile(r"scan (it )?again", re.IGNORECASE)


def scan(page: Any, code: str, expect: str, tap: bool = True, timeout_ms: int = 30_000) -> None:
    """Scan `code` (tapping the Scan field first when `tap`; else into the focused field,
    as a wedge scanner types) and wait for `expect`. When the app refuses the scan and
    says to scan it again, scan again as a person would, once: a browser starved of CPU
    can deliver a scan's keys with a pause the app cannot tell from typing. Each rescan
    is a warning, so the run's summary shows how often the floor would have seen it."""
    asked_before = page.get_by_text(ASKED_TO_RESCAN).count()
    for attempt in range(2):
        if tap:
            type_into(page, "Scan", code)
        else:
            page.keyboard.type(code)
            page.keyboard.press("Enter")
        deadline = time.monotonic() + timeout_ms / 1000
        while time.monotonic() < deadline:
            if page.get_by_text(expect).count():
                return
            asked = page.get_by_text(ASKED_TO_RESCAN)
            if attempt == 0 and asked.count() > asked_before:
                warnings.warn(f"scanned {code!r} again: the app said {asked.first.inner_text()!r}", stacklevel=2)
                break
            page.wait_for_timeout(200)
        else:
            wait_for_text(page, expect, timeout_ms=1)  # raises, naming what was awaited


def sign_in(page: Any, operator_id: str, pin: str | None = None) -> None:
    """Sign in on the floor app: scan the badge, or (with `pin`) type ID and PIN; waits for the next screen."""
    wait_for_text(page, "Scan your badge.")
    signed_in = page.get_by_text(re.compile("Hello, |Welcome back, ")).first  # home, or the work left open
    for attempt in range(2):
        if pin is None:
            type_into(page, "Badge", f"BADGE:{operator_id}")
        else:
            type_into(page, "Operator ID", operator_id, enter=False)
            type_into(page, "PIN", pin)
        try:
            signed_in.wait_for(state="attached", timeout=20_000)
            return
        except Exception:
            # On a machine at load 10+ the first keystrokes into a page that has just drawn
            # can be lost before Flet's session is live; a person would scan the badge again.
            if signed_in.count():
                return
            if attempt == 1:
                raise


# -- processes ----------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cli() -> list[str]:
    exe = Path(sys.executable).with_name("backroom")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "backroom_cli"]


def backroom(*args: str) -> str:
    """Run a `backroom` command to completion; returns its stdout."""
    done = subprocess.run([*_cli(), *args], check=True, text=True, capture_output=True, timeout=120)
    return done.stdout


def start_process(*args: str, log: Path) -> subprocess.Popen:
    """Start a long-running `backroom` command in its own process group."""
    return subprocess.Popen([*_cli(), *args], stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True)


def stop_process(proc: subprocess.Popen | None, timeout: float = 10.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=timeout)


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    """Wait until `url` answers below 500; fails if the process dies first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{proc.args} exited with {proc.returncode} before {url} answered")
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {timeout:.0f} s")


def serve_stack(request, stack):
    """A browser test's fixture body: start the stack's processes, hand it over, stop them;
    print their logs when the test failed (the only clue to a failure on CI)."""
    chromium_or_skip()
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
        if failed(request):
            print(stack.logs())


def failed(request) -> bool:
    """Whether the test that asked for this fixture failed (the report conftest.py keeps)."""
    report = getattr(request.node, "report_call", None)
    return report is None or report.failed


def tail(path: Path, chars: int = 4000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else ""

