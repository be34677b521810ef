"""``checkout-saga audit show CHECKOUT_ID [--at-version N] [--at-time ISO] [--json]`` and
``checkout-saga audit verify`` (CONTRACT §5, invariants 1–8)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

import msgspec

from adapters.read_database import ReadDatabase
from checkout_saga.checkout import fold_checkout
from checkout_saga.ids import CHECKOUT_PREFIX, checkout_stream, parse_prefixed
from checkout_saga.invariants import Violation, check_invariants, streams_by_kind
from checkout_saga.inventory import fold_inventory
from checkout_saga.invoicing import fold_sequence
from checkout_saga.order import fold_order
from events import codec
from projections.consistency import read_models_equal_replay

FOLDS = {"checkout": fold_checkout, "order": fold_order, "inventory": fold_inventory,
         "numbering": fold_sequence}
_LONG = 120


def run(args, system) -> int:
    event_store, settings = system.store, system.settings
    try:
        if args.audit_command == "show":
            return show(event_store, args.checkout_id, at_version=getattr(args, "at_version", None),
                        at_time=getattr(args, "at_time", None), as_json=bool(getattr(args, "json", False)))
        if args.audit_command == "verify":
            db = ReadDatabase(settings.database, pool_size=1)
            try:
                return verify(event_store, db if db.table_exists("projection_tracking") else None,
                              notification_problems=_notification_problems(system, db))
            finally:
                db.close()
        sys.stderr.write(f"unknown audit command: {args.audit_command}\n")
        return 2
    finally:
        system.close()


def _parse_time(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _cause(event) -> str:
    c = event.cause
    if c is None:
        return "-"
    parts = [c.kind] + [f"{k}={v}" for k, v in (("ref", c.ref), ("actor", c.actor), ("note", c.note)) if v]
    return " ".join(parts)


def _fields(event) -> dict:
    data = codec.to_jsonable(event)
    for key in ("occurred_at", "cause"):
        data.pop(key, None)
    return data


def _short(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return text if len(text) <= _LONG else text[: _LONG - 1] + "…"


def history(event_store, checkout_id: str, at_version: int | None = None,
            at_time: str | None = None) -> tuple[list, list]:
    """(the whole stream, its events up to the version or time asked for)."""
    stream = parse_prefixed(checkout_id, CHECKOUT_PREFIX) or checkout_stream(checkout_id)
    everything = event_store.stream(stream)
    events = [e for e in everything if at_version is None or e.originator_version <= at_version]
    if at_time is not None:
        limit = _parse_time(at_time)
        events = [e for e in events if _aware(e.occurred_at) <= limit]
    return everything, events


def show(event_store, checkout_id: str, *, at_version=None, at_time=None, as_json=False) -> int:
    everything, events = history(event_store, checkout_id, at_version, at_time)
    if not everything:
        sys.stderr.write(f"no checkout {checkout_id}\n")
        return 1
    state = fold_checkout(None, events) if events else None
    if as_json:
        doc = {"checkout_id": checkout_id,
               "events": [{"version": e.originator_version, "type": type(e).__name__,
                           "occurred_at": msgspec.to_builtins(e.occurred_at),
                           "cause": msgspec.to_builtins(e.cause), "data": _fields(e)} for e in events],
               "state": msgspec.to_builtins(state)}
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return 0
    out = [f"checkout {checkout_id}: {len(events)} event(s)"
           + (f" up to version {at_version}" if at_version is not None else "")
           + (f" up to {at_time}" if at_time else "")]
    for e in events:
        fields = " ".join(f"{k}={_short(v)}" for k, v in _fields(e).items())
        out.append(f"  v{e.originator_version:<3} {e.occurred_at.isoformat()}  {type(e).__name__:<28} "
                   f"{fields}\n        cause: {_cause(e)}")
    out.append("state as of that point:")
    out.append(json.dumps(msgspec.to_builtins(state), indent=2))
    sys.stdout.write("\n".join(out) + "\n")
    return 0


def replay_equals_live(event_store, events: list) -> list[Violation]:
    """Invariant 7: each stream folded from its first event equals the store's live read
    (which goes through the library's aggregate cache)."""
    out: list[Violation] = []
    for kind, streams in streams_by_kind(events).items():
        fold = FOLDS.get(kind)
        if fold is None:
            continue
        for stream_id, evs in streams.items():
            replayed = fold(None, evs)
            live = event_store.get(stream_id, fold)
            if live != replayed:
                out.append(Violation(7, f"{kind} stream replays to a state other than the live read",
                                     (str(stream_id),)))
    return out


def _notification_problems(system, db) -> list[str]:
    """Invariant 10 (issue 13), when this database has an outbox."""
    if not db.table_exists("outbox"):
        return []
    from application.notifications.audit import verify as verify_notifications

    return verify_notifications(system.notifications, system.store, system.settings.admin_email)


def verify(event_store, read_db=None, notification_problems: list[str] | tuple = ()) -> int:
    """Every invariant over every stream; with ``read_db``, invariant 7 also over the read
    models (served rows = replay of the events each projection has tracked)."""
    events = list(event_store.all_events())
    violations = check_invariants(events) + replay_equals_live(event_store, events)
    if read_db is not None:
        violations += read_models_equal_replay(event_store, read_db)
    violations += [Violation(10, p, (p.split(":", 1)[0],)) for p in notification_problems]
    for v in violations:
        sys.stdout.write(f"invariant {v.invariant} violated: {v.message} [{', '.join(v.ids)}]\n")
    streams = len({e.originator_id for e in events})
    verdict = f"{len(violations)} violation(s)" if violations else "all invariants hold"
    sys.stdout.write(f"checked {len(events)} events in {streams} streams: {verdict}\n")
    return 1 if violations else 0
