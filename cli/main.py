"""The ``checkout-saga`` command line: serve, worker, migrate, stripe-emulator, projections,
audit. Bad configuration prints one line naming the variable and exits 2."""

from __future__ import annotations

import argparse
import secrets
import signal
import sys
from dataclasses import replace

import structlog

from adapters.settings import ConfigError, load_settings

log = structlog.get_logger("cli")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="checkout-saga", description="Event-sourced checkout saga")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="the HTTP API (and the saga worker unless --no-worker)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--no-worker", action="store_true")
    sub.add_parser("worker", help="saga worker and scheduled jobs only")
    sub.add_parser("migrate", help="create/upgrade every table (idempotent)")
    reconcile = sub.add_parser("reconcile", help="compare the ledger with Stripe, fix what is safe")
    reconcile.add_argument("--window-hours", type=float, default=24.0)
    emulator = sub.add_parser("stripe-emulator", help="the built-in Stripe emulator, standalone")
    emulator.add_argument("--host", default="127.0.0.1")
    emulator.add_argument("--port", type=int)
    projections = sub.add_parser("projections", help="read models")
    psub = projections.add_subparsers(dest="projections_command", required=True)
    psub.add_parser("status")
    rebuild = psub.add_parser("rebuild")
    rebuild.add_argument("names", nargs="*", metavar="NAME")
    rebuild.add_argument("--shadow", action="store_true")
    audit = sub.add_parser("audit", help="history and invariants")
    asub = audit.add_subparsers(dest="audit_command", required=True)
    show = asub.add_parser("show")
    show.add_argument("checkout_id", metavar="CHECKOUT_ID")
    show.add_argument("--at-version", type=int)
    show.add_argument("--at-time")
    show.add_argument("--json", action="store_true")
    asub.add_parser("verify")
    from cli.stripe_setup import add_parser as add_stripe_parser

    add_stripe_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
        from adapters.logging_setup import configure_logging

        configure_logging(settings.log_format)
        return COMMANDS[args.command](args, settings)
    except ConfigError as exc:
        sys.stderr.write(f"checkout-saga: configuration error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # never a traceback on the terminal: one line, exit 1
        sys.stderr.write(f"checkout-saga: {args.command} failed: {type(exc).__name__}: {exc}\n")
        return 1


def _system(settings, **overrides):
    """The wired system (``bootstrap.build``), or ConfigError naming the database variable
    when the database does not answer."""
    from adapters.event_store import EventsourcingStore
    from bootstrap import build

    try:
        store = EventsourcingStore(settings.database)
        store.max_notification_id()
    except Exception as exc:  # any connection failure is a configuration problem at start-up
        raise ConfigError("CHECKOUT_SAGA_DATABASE_URL",
                          f"the database does not answer ({type(exc).__name__})") from None
    return build(settings, store=store, **overrides)


def cmd_migrate(_args, settings) -> int:
    system = _system(settings)
    try:
        system.read_models  # noqa: B018 - building the read side migrates every table
        system.idempotency_records.ensure()
        system.webhook_intake.log.ensure()
    finally:
        system.close()
    _tell(settings, "migrations applied", "migrations_applied")
    return 0


def _tell(settings, text: str, event: str, **fields) -> None:
    """A line for whoever started the command: plain text on a console, else a JSON log event
    (in ``json`` mode every line a process writes is JSON)."""
    if settings.log_format == "json":
        log.info(event, **fields)
        return
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _start_emulator(settings, host: str, port: int):
    """The emulator (STRIPE_SECRET_KEY unset), delivering webhooks to this server."""
    from cli.stripe_setup import register_with_emulator
    from stripe_emulator import EmulatorServer

    webhook_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    emulator = EmulatorServer("127.0.0.1", settings.stripe_emulator_port,
                              webhook_secret=settings.stripe_webhook_secret).start()
    secret = register_with_emulator(emulator.base_url,
                                    f"http://{webhook_host}:{port}/webhooks/stripe",
                                    settings.stripe_webhook_secret)
    return emulator, replace(settings, stripe_api_base=emulator.base_url, stripe_webhook_secret=secret)


def cmd_serve(args, settings) -> int:
    import uvicorn

    from api.app import create_app

    host = args.host or settings.host
    port = args.port if args.port is not None else settings.port
    _system(settings).close()  # the database answers before anything else starts
    emulator = None
    if settings.uses_emulator:
        emulator, settings = _start_emulator(settings, host, port)
    system = _system(settings)
    system.read_models.start_background()
    worker = None if args.no_worker else system.worker()
    app = create_app(system)
    _announce(settings, host, port, emulator)
    if worker is not None:
        worker.start()
    try:
        # log_config=None: uvicorn keeps the product's logging (adapters.logging_setup)
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False,
                    log_config=None)
    finally:
        if worker is not None:
            worker.stop()
        system.read_models.stop()
        if emulator is not None:
            emulator.stop()
        system.close()
    return 0


def _announce(settings, host: str, port: int, emulator) -> None:
    url = f"http://{host}:{port}"
    lines = [f"checkout-saga API: {url}", f"API docs:          {url}/schema"]
    if emulator is not None:
        lines.append(f"Stripe emulator:   {emulator.base_url} (webhooks to {url}/webhooks/stripe)")
    if settings.keys_generated:
        lines.append(f"storefront key:    {settings.api_keys[0]}")
        lines.append(f"admin key:         {settings.admin_keys[0]}")
        lines.append("(generated for this run; set CHECKOUT_SAGA_API_KEYS / CHECKOUT_SAGA_ADMIN_KEYS to keep them)")
    fields = {"url": url, "docs": f"{url}/schema",
              "stripe_emulator": emulator.base_url if emulator is not None else None}
    _tell(settings, "\n".join(lines), "serving", **fields)
    if settings.keys_generated and settings.log_format == "json":
        # the keys of this run are its only way in: printed as the contract says, once
        log.warning("api_keys_generated", storefront_key=settings.api_keys[0],
                    admin_key=settings.admin_keys[0],
                    note="set CHECKOUT_SAGA_API_KEYS / CHECKOUT_SAGA_ADMIN_KEYS to keep them")


def cmd_worker(_args, settings) -> int:
    system = _system(settings)
    system.read_models.start_background()
    worker = system.worker()
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    _tell(settings, "checkout-saga worker running", "worker_running")
    try:
        worker.run_forever()
    finally:
        system.read_models.stop()
        system.close()
    return 0


def cmd_reconcile(args, settings) -> int:
    import json

    system = _system(settings)
    try:
        report = system.reconciler(window_hours=args.window_hours).run()
    finally:
        system.close()
    sys.stdout.write(json.dumps(report, indent=2) + "\n")
    return 0


def cmd_stripe_emulator(args, settings) -> int:
    from stripe_emulator import serve_forever

    port = args.port if args.port is not None else settings.stripe_emulator_port
    secret = settings.stripe_webhook_secret or f"whsec_{secrets.token_hex(24)}"
    _tell(settings, f"Stripe emulator: http://{args.host}:{port}\nwebhook secret:  {secret}",
          "stripe_emulator_announced", url=f"http://{args.host}:{port}", webhook_secret=secret)
    serve_forever(args.host, port, secret)
    return 0


def cmd_projections(args, settings) -> int:
    from cli.projections import run

    return run(args, _system(settings))


def cmd_stripe(args, settings) -> int:
    from cli.stripe_setup import run

    return run(args, settings)


def cmd_audit(args, settings) -> int:
    from cli.audit import run

    return run(args, _system(settings))


COMMANDS = {
    "serve": cmd_serve,
    "worker": cmd_worker,
    "migrate": cmd_migrate,
    "reconcile": cmd_reconcile,
    "stripe-emulator": cmd_stripe_emulator,
    "projections": cmd_projections,
    "audit": cmd_audit,
    "stripe": cmd_stripe,
}


if __name__ == "__main__":
    sys.exit(main())
