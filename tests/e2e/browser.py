"""What the browser tests need: Debian's Chromium driven by Playwright (never a browser that a
test tool downloads), a guard that aborts and records every request leaving 127.0.0.1, and
the product served by uvicorn in a thread on a loopback port (the system wired in this
process, so a test can put a checkout into ``needs_attention`` with the fake gateway)."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "var" / "artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
# Chromium logs an answer it was meant to get (a refused form, a wrong key) as an error too
EXPECTED_REFUSALS = tuple(f"Failed to load resource: the server responded with a status of {s}"
                          for s in (401, 403))
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}


def chromium_path() -> str | None:
    for candidate in (os.environ.get("CHECKOUT_SAGA_CHROMIUM"), "/usr/bin/chromium",
                      shutil.which("chromium")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def require_browser() -> str:
    """The Chromium to drive; skips with the reason outside CI, fails under CI=true."""
    reason = None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        reason = "playwright is not installed (make .venv/.installed)"
    path = chromium_path()
    if reason is None and path is None:
        reason = "no Chromium at /usr/bin/chromium (apt-get install -y --no-install-recommends chromium)"
    if reason is not None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"browser tests must run in CI: {reason}")
        pytest.skip(f"browser tests skipped: {reason}")
    return path


class OffMachineRequests:
    """Route interception: any request to a host other than loopback is aborted and kept;
    and the errors pages log (a Content-Security-Policy violation is one)."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.errors: list[str] = []

    def watch(self, page) -> None:
        page.on("console", lambda m: self.errors.append(f"{page.url}: {m.text}")
                if m.type == "error" and not m.text.startswith(EXPECTED_REFUSALS) else None)

    def __call__(self, route) -> None:
        url = route.request.url
        host = urlsplit(url).hostname or ""
        if url.startswith(("data:", "blob:", "about:")) or host in LOOPBACK:
            route.continue_()
        else:
            self.seen.append(url)
            route.abort()


@contextlib.contextmanager
def chromium(executable: str) -> Iterator[tuple[object, OffMachineRequests]]:
    """A fresh persistent context (its own user-data dir) with the off-machine guard on."""
    from playwright.sync_api import sync_playwright

    guard = OffMachineRequests()
    with sync_playwright() as pw, tempfile.TemporaryDirectory(prefix="console-chromium-") as profile:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=executable, args=CHROMIUM_ARGS, headless=True,
            viewport={"width": 1280, "height": 900})
        context.set_default_timeout(20_000)
        context.route("**/*", guard)
        context.on("page", guard.watch)
        try:
            yield context, guard
        finally:
            context.close()


class ThreadedServer:
    """``create_app(system)`` under uvicorn in a daemon thread on a free loopback port."""

    def __init__(self, app, port: int) -> None:
        import uvicorn

        self.port = port
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                                   log_level="warning", access_log=False))
        self.thread = threading.Thread(target=self.server.run, name="console-server", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> ThreadedServer:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the console server did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
