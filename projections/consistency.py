"""Invariant 7 for the read side: the rows a projection serves equal the replay of the events.

The served rows and the tracking positions are read in one snapshot (REPEATABLE READ on
PostgreSQL; a WAL read transaction on SQLite), so a runner applying a batch meanwhile cannot
make them disagree. Each projection's fold is then replayed in memory over exactly the events
it has tracked (notification ids up to its position) and compared row by row. A row that
differs, is missing or should not exist is a violation naming the projection and the key."""

from __future__ import annotations

from projections import store
from projections.base import Projection, Row, fold_rows
from projections.registry import PROJECTIONS

PAGE = 5000


def _canonical(projection: Projection, row: Row) -> tuple:
    """Stored form (JSON columns as text), booleans as integers: what a database returns."""
    return tuple(int(v) if isinstance(v, bool) else v for v in store._encode(projection, row))


def _served(db) -> tuple[dict[str, int], dict[str, dict[str, tuple]]]:
    names = list(PROJECTIONS)
    with db.read() as tx:
        if tx.is_postgres:
            tx.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        positions = store.positions(tx, names)
        rows = {}
        for name, p in PROJECTIONS.items():
            fetched = (store._decode(p, r) for r in tx.fetchall(f"SELECT * FROM {name}"))
            rows[name] = {r[p.key_column]: _canonical(p, r) for r in fetched}
    return positions, rows


def _replayed(event_store, positions: dict[str, int]) -> dict[str, dict[str, Row]]:
    rows: dict[str, dict[str, Row]] = {name: {} for name in PROJECTIONS}
    last = max(positions.values(), default=0)
    start = 1
    while start <= last:
        page = event_store.notifications(start, PAGE)
        page = [n for n in page if n.id <= last]
        if not page:
            break
        decoded = [(n.id, event_store.decode(n)) for n in page]
        for name, p in PROJECTIONS.items():
            fold_rows(p, rows[name], [e for nid, e in decoded if nid <= positions[name]])
        start = page[-1].id + 1
    return rows


def read_models_equal_replay(event_store, db) -> list:
    """Violations of invariant 7 found in the read models (empty when they agree)."""
    from checkout_saga.invariants import Violation

    positions, served = _served(db)
    replayed = _replayed(event_store, positions)
    out = []
    for name, p in PROJECTIONS.items():
        expected = {k: _canonical(p, r) for k, r in replayed[name].items()}
        for key in sorted(set(expected) | set(served[name])):
            if expected.get(key) != served[name].get(key):
                what = ("missing" if key not in served[name] else
                        "not in the replay" if key not in expected else "differs from the replay")
                out.append(Violation(7, f"{name} row {what} (position {positions[name]})",
                                     (name, str(key))))
    return out
