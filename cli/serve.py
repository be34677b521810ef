"""What ``checkout-saga serve`` runs: the supervised set of processes (``cli.supervisor``
explains the model) and the body of each kind of child."""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
from collections.abc import Callable
from dataclasses import replace

import structlog

from cli.announce import tell
from cli.supervisor import Child, Supervisor, fresh_metrics_dir, listen

log = structlog.get_logger("cli")


def positive_int(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {raw!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def supervise(args, settings, system_factory: Callable) -> int:
    """N API processes on one port, the worker, the emulator; returns when stopped."""
    host = args.host or settings.host
    port = args.port if args.port is not None else settings.port
    workers = args.workers or settings.workers
    metrics_dir = fresh_metrics_dir()
    _multiprocess_metrics(metrics_dir)
    system = system_factory(settings)  # the database answers, and every table exists,
    try:                               # before any child starts
        system.read_models  # noqa: B018 - building the read side migrates it
    finally:
        system.close()
    _preload()
    sock = listen(host, port)
    port = sock.getsockname()[1]
    children: list[Child] = []
    emulator_url = None
    if settings.uses_emulator:
        emulator_port = settings.stripe_emulator_port or _free_port()
        emulator_url = f"http://127.0.0.1:{emulator_port}"
        secret = settings.stripe_webhook_secret or f"whsec_{secrets.token_hex(24)}"
        webhook_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        webhook_url = f"http://{webhook_host}:{port}/webhooks/stripe"
        settings = replace(settings, stripe_api_base=emulator_url, stripe_webhook_secret=secret)

        def emulator() -> int:
            sock.close()  # only API processes keep the listening socket
            return serve_emulator(emulator_port, secret, webhook_url)

        children.append(Child("stripe-emulator", "emulator", emulator, port=emulator_port))

    def worker() -> int:
        sock.close()
        return run_worker(system_factory(settings))

    def api() -> int:
        return serve_api(system_factory(settings), sock)

    if not args.no_worker:
        children.append(Child("worker", "worker", worker))
    children.extend(Child(f"api-{n}", "api", api) for n in range(1, workers + 1))
    supervisor = Supervisor(children, metrics_dir=metrics_dir, on_started=lambda: announce(
        settings, host, port, emulator_url, workers=workers, worker=not args.no_worker))
    try:
        return supervisor.run()
    finally:
        sock.close()


def _multiprocess_metrics(directory) -> None:
    """Every process from here on (the children are forks) writes its metrics to files in
    ``directory``; set before any metric exists, whether or not prometheus_client is loaded."""
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    from prometheus_client import values

    values.ValueClass = values.get_value_class()


def _preload() -> None:
    """Imports what every child needs, once, before the forks."""
    import uvicorn  # noqa: F401

    import api.app  # noqa: F401
    import application.worker  # noqa: F401
    import projections.runtime  # noqa: F401
    import stripe_emulator  # noqa: F401


def serve_api(system, sock: socket.socket) -> int:
    """One API process on the listening socket it inherited: requests only, no background
    work (the worker process runs projections, timers and reconciliation)."""
    import uvicorn

    from api.app import create_app

    system.read_models  # noqa: B018 - open the read side (idempotency records) before accepting
    # log_config=None: uvicorn keeps the product's logging (adapters.logging_setup)
    server = uvicorn.Server(uvicorn.Config(create_app(system), log_level="warning",
                                           access_log=False, timeout_graceful_shutdown=8,
                                           log_config=None))
    try:
        server.run(sockets=[sock])
    finally:
        system.close()
    return 0


def run_worker(system) -> int:
    """What ``checkout-saga worker`` runs: projections, timers, recovery, reconciliation."""
    system.read_models.start_background()
    worker = system.worker()
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    try:
        worker.run_forever()
    finally:
        system.read_models.stop()
        system.close()
    return 0


def serve_emulator(port: int, secret: str, webhook_url: str) -> int:
    """The built-in emulator, its endpoint subscribed to exactly the types the product handles
    (as ``checkout-saga stripe setup-webhooks`` subscribes a real Stripe endpoint)."""
    from checkout_saga.stripe_events import HANDLED_EVENT_TYPES
    from stripe_emulator import EmulatorConfig, serve_forever

    serve_forever("127.0.0.1", port, secret, webhook_url,
                  config=EmulatorConfig(webhook_events=tuple(HANDLED_EVENT_TYPES)))
    return 0


def announce(settings, host: str, port: int, emulator_url: str | None, *, workers: int,
             worker: bool) -> None:
    url = f"http://{host}:{port}"
    lines = [f"checkout-saga API: {url} ({workers} API process{'es' if workers > 1 else ''}"
             f"{', 1 worker process' if worker else ', no worker'})",
             f"API docs:          {url}/schema"]
    if emulator_url is not None:
        lines.append(f"Stripe emulator:   {emulator_url} (webhooks to {url}/webhooks/stripe)")
    if settings.keys_generated:
        lines.append(f"storefront key:    {settings.api_keys[0]}")
        lines.append(f"admin key:         {settings.admin_keys[0]}")
        lines.append("(generated for this run; set CHECKOUT_SAGA_API_KEYS / CHECKOUT_SAGA_ADMIN_KEYS to keep them)")
    tell(settings, "\n".join(lines), "serving", url=url, docs=f"{url}/schema",
         stripe_emulator=emulator_url, api_processes=workers, worker=worker)
    if settings.keys_generated and settings.log_format == "json":
        # the keys of this run are its only way in: shown as the contract says, once
        log.warning("api_keys_generated", storefront_key=settings.api_keys[0],
                    admin_key=settings.admin_keys[0],
                    note="set CHECKOUT_SAGA_API_KEYS / CHECKOUT_SAGA_ADMIN_KEYS to keep them")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
