"""Running the emulator: in a background thread (`EmulatorServer`, for `serve` and
tests) or in the foreground (`serve_forever`, for `checkout-saga stripe-emulator`).

The listening socket is bound before uvicorn starts, so `port=0` yields a known free
port and a busy port fails in `start()` with an OSError rather than in a thread.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import structlog
import uvicorn

from stripe_emulator.app import EmulatorApp, create_emulator_app
from stripe_emulator.config import EmulatorConfig
from stripe_emulator.ids import random_token

log = structlog.get_logger()


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _uvicorn(app: EmulatorApp, host: str, port: int) -> uvicorn.Server:
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,  # the product configures logging; uvicorn must not replace it
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=1,
    )
    return uvicorn.Server(config)


class EmulatorServer:
    """The emulator on `host:port`, served by uvicorn on a daemon thread."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        webhook_secret: str | None = None,
        webhook_url: str | None = None,
        *,
        config: EmulatorConfig | None = None,
    ) -> None:
        base = config or EmulatorConfig()
        self.host = host
        self.webhook_secret = webhook_secret or base.webhook_secret or f"whsec_{random_token(32)}"
        self.app = create_emulator_app(self.webhook_secret, webhook_url, config=base)
        self._requested_port = port
        self._port: int | None = None
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the emulator is not started")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> EmulatorServer:
        """Serve, and return once the socket accepts connections."""
        if self._thread is not None:
            raise RuntimeError("the emulator is already started")
        self._socket = _bind(self.host, self._requested_port)
        self._port = int(self._socket.getsockname()[1])
        self._server = _uvicorn(self.app, self.host, self.port)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name=f"stripe-emulator-{self.port}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the Stripe emulator did not start")
            time.sleep(0.005)
        log.info("stripe_emulator.started", url=self.base_url)
        return self

    def register_webhook_endpoint(self, url: str, secret: str | None = None,
                                  enabled_events: tuple[str, ...] = ("*",)) -> dict[str, Any]:
        """Same as `POST /_emulator/webhook_endpoints`; `secret` defaults to the server's,
        `enabled_events` to every type."""
        return self.app.emulator.register_webhook_endpoint(url, secret or self.webhook_secret,
                                                           tuple(enabled_events))

    def reset(self) -> None:
        """Same as `POST /_emulator/reset`."""
        self.app.emulator.reset()

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.app.close()
        if self._socket is not None:
            self._socket.close()
        self._thread = None
        self._server = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_forever(
    host: str,
    port: int,
    webhook_secret: str,
    webhook_url: str | None = None,
    *,
    config: EmulatorConfig | None = None,
) -> None:
    """Serve in the foreground until interrupted (Ctrl-C / SIGTERM)."""
    app = create_emulator_app(webhook_secret, webhook_url, config=config)
    server = _uvicorn(app, host, port)
    log.info("stripe_emulator.serving", url=f"http://{host}:{port}", webhook_url=webhook_url)
    try:
        server.run()
    except KeyboardInterrupt:
        pass  # uvicorn re-raises Ctrl-C after its graceful shutdown: that is the way out
    finally:
        app.close()
