"""pytest plugin: a localstripe server for contract tests (``-p tests.plugins.localstripe``).

localstripe's own CLI binds every interface and pickles its store to /tmp on each write.
Here it runs in a subprocess that binds 127.0.0.1 on a free port (chosen by the kernel and
reported back on stdout) with the pickling switched off inside that subprocess only.
"""

from __future__ import annotations

import select
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

_SERVER_SCRIPT = r"""
import socket
import localstripe.resources as resources

resources.Store.dump_to_disk = lambda self: None
resources.Store.try_load_from_disk = lambda self: None

from aiohttp import web
from localstripe.server import app

sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(("127.0.0.1", 0))
print(sock.getsockname()[1], flush=True)
web.run_app(app, sock=sock, print=None, access_log=None)
"""

_START_TIMEOUT_SECONDS = 20.0


@dataclass(frozen=True)
class LocalStripe:
    base_url: str
    api_key: str = "sk_test_localstripe"

    def register_webhook(self, url: str, secret: str, events: list[str] | None = None) -> None:
        """localstripe's own way: ``POST /_config/webhooks/{id}``; one endpoint, replaced."""
        body: dict[str, object] = {"url": url, "secret": secret}
        if events is not None:
            body["events"] = events
        response = httpx.post(f"{self.base_url}/_config/webhooks/checkout-saga-tests", json=body)
        response.raise_for_status()

    def flush(self) -> None:
        httpx.delete(f"{self.base_url}/_config/data").raise_for_status()


def _read_port(process: subprocess.Popen[bytes], deadline: float) -> int:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], max(0.0, deadline - time.monotonic()))
    line = process.stdout.readline() if ready else b""
    if not line.strip().isdigit():
        raise RuntimeError(f"localstripe did not report its port (got {line!r})")
    return int(line)


def _wait_until_serving(base_url: str, deadline: float) -> None:
    while True:
        try:
            httpx.get(f"{base_url}/js.stripe.com/v3/", timeout=1.0)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@pytest.fixture(scope="session")
def localstripe_server() -> Iterator[LocalStripe]:
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(
            [sys.executable, "-I", "-c", _SERVER_SCRIPT],  # -I: no cwd or env on sys.path
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
        try:
            deadline = time.monotonic() + _START_TIMEOUT_SECONDS
            try:
                base_url = f"http://127.0.0.1:{_read_port(process, deadline)}"
                _wait_until_serving(base_url, deadline)
            except Exception as exc:
                stderr.seek(0)
                raise RuntimeError(f"localstripe failed to start: {stderr.read()!r}") from exc
            yield LocalStripe(base_url=base_url)
        finally:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
