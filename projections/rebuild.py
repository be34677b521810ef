"""Rebuilding projections from the first event, in place or into shadow tables.

In place: the rows and positions are reset in one transaction, then replayed in large
batches (each batch one transaction, so an interrupted rebuild resumes where it stopped).
Shadow: ``<name>__shadow`` tables are built while the served tables keep serving, checked,
then swapped in one transaction; an interrupted shadow rebuild leaves the served tables as
they were (the next shadow rebuild starts its shadow afresh)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from checkout_saga.inventory import fold_inventory
from events import inventory as inv_ev
from migrations import schema
from projections import store
from projections.registry import PROJECTIONS
from projections.runner import Target, catch_up

REBUILD_BATCH = 5000
Progress = Callable[[int], None]


class ShadowCheckFailedError(RuntimeError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class InventoryWitness:
    """The inventory fold over the same events the shadow saw, to check it against."""

    states: dict = field(default_factory=dict)

    def see(self, events: list) -> None:
        streams: dict = defaultdict(list)
        for e in events:
            if type(e).__module__ == inv_ev.__name__:
                streams[e.originator_id].append(e)
        for sid, evs in streams.items():
            self.states[sid] = fold_inventory(self.states.get(sid), evs)


def rebuild_in_place(db, event_store, names: list[str], progress: Progress | None = None) -> int:
    targets = [Target.served(PROJECTIONS[n]) for n in names]
    with db.write() as tx:
        store.ensure_tracking(tx, names)
        store.positions(tx, sorted(names), lock=True)
        for t in targets:
            tx.execute(f"DELETE FROM {t.table}")
        store.set_position(tx, names, 0)
    return catch_up(db, event_store, targets, REBUILD_BATCH,
                    on_batch=lambda n, _: progress and progress(n))


def _fresh_shadows(db, targets: list[Target]) -> None:
    with db.write() as tx:
        for t in targets:
            tx.execute(f"DROP TABLE IF EXISTS {t.table}")
            for statement in schema.create_all(t.projection.name, t.table):
                tx.execute(statement)
        store.ensure_tracking(tx, [t.tracking for t in targets])
        store.set_position(tx, [t.tracking for t in targets], 0)


def check_shadows(db, targets: list[Target], witness: InventoryWitness) -> list[str]:
    problems: list[str] = []
    tables = {t.projection.name: t.table for t in targets}
    with db.read() as tx:
        if "inventory_levels" in tables:
            rows = {r["sku"]: r for r in tx.fetchall(f"SELECT * FROM {tables['inventory_levels']}")}
            for state in witness.states.values():
                held = sum(r.quantity for r in state.reservations.values())
                row = rows.get(state.sku)
                if row is None or int(row["reserved"]) != held or held != state.reserved:
                    problems.append(f"{state.sku}: reservations hold {held}, row says "
                                    f"{row and row['reserved']}")
        if "orders" in tables:
            for r in tx.fetchall(f"SELECT order_id, amount_total, amount_refunded FROM {tables['orders']} "
                                 "WHERE amount_refunded > amount_total"):
                problems.append(f"{r['order_id']}: refunded {r['amount_refunded']} > total {r['amount_total']}")
    return problems


def swap(db, targets: list[Target]) -> None:
    """Shadows become the served tables, with their positions, in one transaction."""
    with db.write() as tx:
        served = sorted(t.projection.name for t in targets)
        store.positions(tx, served, lock=True)
        built = store.positions(tx, [t.tracking for t in targets])
        for t in targets:
            name = t.projection.name
            tx.execute(f"DROP TABLE IF EXISTS {name}")
            tx.execute(f"ALTER TABLE {t.table} RENAME TO {name}")
            if db.is_postgres:
                tx.execute(f"ALTER INDEX IF EXISTS {t.table}_pkey RENAME TO {name}_pkey")
            for index in schema.index_names(name, t.table):
                tx.execute(f"DROP INDEX IF EXISTS {index}")
            for statement in schema.create_indexes(name):
                tx.execute(statement)
            store.set_position(tx, [name], built[t.tracking])
            tx.execute("DELETE FROM projection_tracking WHERE name = ?", (t.tracking,))


def rebuild_shadow(db, event_store, names: list[str], progress: Progress | None = None) -> int:
    targets = [Target.shadow(PROJECTIONS[n]) for n in names]
    _fresh_shadows(db, targets)
    witness = InventoryWitness()

    def on_batch(n: int, events: list) -> None:
        witness.see(events)
        if progress:
            progress(n)

    applied = catch_up(db, event_store, targets, REBUILD_BATCH, on_batch=on_batch)
    problems = check_shadows(db, targets, witness)
    if problems:
        raise ShadowCheckFailedError(problems)
    swap(db, targets)
    return applied
