"""Pytest fixtures for the built-in Stripe emulator (load with `-p tests.plugins.emulator`
or `pytest_plugins = ["tests.plugins.emulator"]`).

- `stripe_emulator`: a started `EmulatorServer` on 127.0.0.1 with short delays, stopped
  after the test.
- `stripe_client_for(emulator)`: the real `stripe.StripeClient` pointed at it.
- `webhook_receiver`: a tiny local HTTP server that records webhook deliveries and
  answers with the statuses a test scripts.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TypeVar

import pytest
import stripe

from stripe_emulator import EmulatorConfig, EmulatorServer

TEST_WEBHOOK_SECRET = "whsec_test_emulator"
TEST_API_KEY = "sk_test_emulator"
FAST_CONFIG = EmulatorConfig(
    webhook_retry_base_delay=0.05,
    webhook_retry_max_delay=0.4,
    webhook_max_attempts=6,
    webhook_timeout=2.0,
    reorder_hold_seconds=2.0,
    refund_failure_delay=0.05,
    default_fault_delay=1.0,
)
"""Delays short enough for tests; semantics unchanged."""

T = TypeVar("T")


@pytest.fixture
def stripe_emulator() -> Iterator[EmulatorServer]:
    server = EmulatorServer(webhook_secret=TEST_WEBHOOK_SECRET, config=FAST_CONFIG).start()
    try:
        yield server
    finally:
        server.stop()


def stripe_client_for(emulator: EmulatorServer, *, timeout: float = 5.0) -> stripe.StripeClient:
    """A StripeClient on the emulator; no SDK retries so each fault is seen as it is."""
    return stripe.StripeClient(
        TEST_API_KEY,
        base_addresses={"api": emulator.base_url},
        max_network_retries=0,
        http_client=stripe.RequestsClient(timeout=timeout),
    )


def eventually(probe: Callable[[], T | None], timeout: float = 5.0, interval: float = 0.01) -> T:
    """The first truthy result of `probe`; fails the test if none comes before `timeout`
    (a generous bound on background work, not a performance assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout}s")
        time.sleep(interval)


@dataclass(frozen=True)
class ReceivedWebhook:
    payload: str
    signature: str | None
    status: int


class WebhookReceiver:
    """A local HTTP endpoint; answers each POST with the next scripted status (default
    200) and records it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._statuses: deque[int] = deque()
        self.received: list[ReceivedWebhook] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/webhooks/stripe"

    def respond_with(self, *statuses: int) -> None:
        with self._lock:
            self._statuses.extend(statuses)

    def acknowledged(self) -> list[ReceivedWebhook]:
        with self._lock:
            return [hook for hook in self.received if 200 <= hook.status < 300]

    def wait_for_acknowledged(self, count: int, timeout: float = 5.0) -> list[ReceivedWebhook]:
        def enough() -> list[ReceivedWebhook] | None:
            hooks = self.acknowledged()
            return hooks if len(hooks) >= count else None

        return eventually(enough, timeout)

    def _record(self, payload: str, signature: str | None) -> int:
        with self._lock:
            status = self._statuses.popleft() if self._statuses else 200
            self.received.append(ReceivedWebhook(payload, signature, status))
            return status

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", "0"))
                payload = self.rfile.read(length).decode("utf-8")
                status = receiver._record(payload, self.headers.get("Stripe-Signature"))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

        return Handler

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver().start()
    try:
        yield receiver
    finally:
        receiver.stop()
