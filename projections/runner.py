"""Applying recorded events to projections, one batch per transaction.

A batch reads the notifications after the lowest tracked position, then, in one transaction
that first locks the tracking rows and checks nobody moved them meanwhile, folds the events
each projection has not seen into its rows and moves every position to the batch's end. A
crash between batches loses nothing and applies nothing twice.

Round trips per batch: the positions a runner wrote itself are remembered (``positions``) and
not read again before its next batch — the locked check in the write transaction still sees
a position moved by anyone else (another runner, a rebuild), and the batch is then abandoned
(-1) and the positions read again. A catch-up stops after a batch shorter than the limit: it
has read everything recorded by then (what is recorded later sends its own notification). So a
quiet stand's catch-up after one append costs two transactions (read the notifications, write
the rows), not five."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from events import codec
from projections import store
from projections.base import Projection, fold_rows

DEFAULT_BATCH = 500


@dataclass(frozen=True)
class Target:
    projection: Projection
    table: str  # the served table, or its shadow
    tracking: str  # its name in projection_tracking

    @classmethod
    def served(cls, projection: Projection) -> Target:
        return cls(projection, projection.name, projection.name)

    @classmethod
    def shadow(cls, projection: Projection) -> Target:
        name = f"{projection.name}__shadow"
        return cls(projection, name, name)


def apply_events(tx, target: Target, events: list) -> None:
    p = target.projection
    keys = {k for k in (p.key(e) for e in events) if k is not None}
    if not keys:
        return
    rows = store.load_rows(tx, p, target.table, keys)
    changed = fold_rows(p, rows, events)
    store.upsert_rows(tx, p, target.table, [rows[k] for k in sorted(changed)])


def run_batch(db, event_store, targets: list[Target], batch: int = DEFAULT_BATCH,
              on_events: Callable[[list], None] | None = None,
              positions: dict[str, int] | None = None) -> int:
    """Applies one batch; returns how many notifications it covered (0: up to date).
    Returns -1 when another runner moved a position meanwhile (nothing applied; call again).
    ``positions``: the positions this runner last wrote (used instead of reading them, and
    kept up to date; emptied when they turn out to be stale)."""
    names = [t.tracking for t in targets]
    if positions is not None and all(name in positions for name in names):
        seen = {name: positions[name] for name in names}
    else:
        with db.read() as tx:
            seen = store.positions(tx, names)
    start = min(seen.values()) + 1
    notes = event_store.app.recorder.select_notifications(start=start, limit=batch)
    if not notes:
        return 0
    decoded = [(n.id, codec.decode(n.topic, n.state)) for n in notes]
    with db.write() as tx:
        store.ensure_tracking(tx, names)
        if store.positions(tx, sorted(names), lock=True) != seen:
            if positions is not None:
                positions.clear()
            return -1
        for target in targets:
            after = seen[target.tracking]
            apply_events(tx, target, [e for nid, e in decoded if nid > after])
        store.set_position(tx, names, notes[-1].id)
    if positions is not None:
        positions.update(dict.fromkeys(names, notes[-1].id))
    if on_events is not None:
        on_events([e for _, e in decoded])
    return len(notes)


def catch_up(db, event_store, targets: list[Target], batch: int = DEFAULT_BATCH,
             on_batch: Callable[[int, list], None] | None = None,
             positions: dict[str, int] | None = None) -> int:
    """Applies everything recorded so far; returns how many notifications were applied.
    ``positions``: as for ``run_batch``, kept across calls by a long-lived runner."""
    total = 0
    positions = {} if positions is None else positions
    while True:
        events_seen: list = []
        n = run_batch(db, event_store, targets, batch, on_events=events_seen.extend,
                      positions=positions)
        if n == 0:
            return total
        if n > 0:
            total += n
            if on_batch is not None:
                on_batch(n, events_seen)
            if n < batch:  # everything recorded before this batch's read is applied
                return total
