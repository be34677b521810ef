"""The ``checkout-saga`` command line: serve, worker, migrate, stripe-emulator, projections,
audit. Bad configuration prints one line naming the variable and exits 2."""

from __future__ import annotations

import argparse
import secrets
import sys

import structlog

from adapters.settings import ConfigError, load_settings
from cli.announce import tell
from cli.serve import positive_int

log = structlog.get_logger("cli")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="checkout-saga", description="Event-sourced checkout saga")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="the HTTP API in N processes, the saga worker (unless "
                           "--no-worker) and the built-in emulator, supervised")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=positive_int, metavar="N",
                       help="API processes (default: CHECKOUT_SAGA_WORKERS, else the CPUs)")
    serve.add_argument("--no-worker", action="store_true")
    sub.add_parser("worker", help="saga worker and scheduled jobs only")
    sub.add_parser("migrate", help="create/upgrade every table (idempotent)")
    reconcile = sub.add_parser("reconcile", help="compare the ledger with Stripe, fix what is safe")
    reconcile.add_argument("--window-hours", type=float, default=24.0)
    emulator = sub.add_parser("stripe-emulator", help="the built-in Stripe emulator, standalone")
    emulator.add_argument("--host", default="127.0.0.1")
    emulator.add_argument("--port", type=int)
    emulator.add_argument("--webhook-url", help="deliver every event to this URL")
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
    tell(settings, "migrations applied", "migrations_applied")
    return 0


def cmd_serve(args, settings) -> int:
    from cli.serve import supervise

    return supervise(args, settings, _system)


def cmd_worker(_args, settings) -> int:
    from cli.serve import run_worker

    system = _system(settings)
    tell(settings, "checkout-saga worker running", "worker_running")
    return run_worker(system)


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
    tell(settings, f"Stripe emulator: http://{args.host}:{port}\nwebhook secret:  {secret}",
         "stripe_emulator_announced", url=f"http://{args.host}:{port}")
    serve_forever(args.host, port, secret, args.webhook_url)
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
