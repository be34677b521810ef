"""Reads of the served projection tables for the operator console (CONTRACT §3.12): checkouts
by status, reservations held, checkouts started per minute, payments and orders search, and
the outbox when it exists. Every function takes an open read transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

from projections.base import rfc3339, ts

SEARCH_LIMIT = 50
_PAYMENT_KEYS = ("payment_intent_id", "charge_id", "checkout_id", "order_id", "refund_id",
                 "provider_refund_id", "dispute_id")


def checkouts_by_status(tx) -> dict[str, int]:
    rows = tx.fetchall("SELECT status, COUNT(*) AS n FROM ops_checkouts GROUP BY status "
                       "ORDER BY status")
    return {r["status"]: int(r["n"]) for r in rows}


def reservations_held(tx) -> list[dict]:
    """SKUs with units reserved for checkouts not yet paid or released, most held first."""
    rows = tx.fetchall("SELECT sku, reserved, available FROM inventory_levels WHERE reserved > 0 "
                       "ORDER BY reserved DESC, sku")
    return [{"sku": r["sku"], "reserved": int(r["reserved"]), "available": int(r["available"])}
            for r in rows]


def checkouts_per_minute(tx, now: datetime, minutes: int = 60) -> list[tuple[datetime, int]]:
    """Checkouts started in each of the last ``minutes`` whole minutes up to ``now`` (oldest
    first, empty minutes included)."""
    end = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    start = end - timedelta(minutes=minutes)
    rows = tx.fetchall("SELECT created_at FROM ops_checkouts WHERE created_at >= ? AND created_at < ?",
                       (ts(start), ts(end)))
    counts: dict[str, int] = {}
    for row in rows:  # stored timestamps are fixed-width UTC text: the minute is a prefix
        minute = row["created_at"][:16]
        counts[minute] = counts.get(minute, 0) + 1
    buckets = [start + timedelta(minutes=i) for i in range(minutes)]
    return [(at, counts.get(ts(at)[:16], 0)) for at in buckets]


def search_payments(tx, text: str, limit: int = SEARCH_LIMIT) -> list[dict]:
    """Payments-ledger entries any of whose ids equals ``text`` (newest first); every entry
    when ``text`` is empty."""
    sql = "SELECT * FROM payments_ledger"
    params: list = []
    if text:
        sql += " WHERE " + " OR ".join(f"{k} = ?" for k in _PAYMENT_KEYS)
        params = [text] * len(_PAYMENT_KEYS)
    rows = tx.fetchall(sql + " ORDER BY occurred_at DESC, entry_id DESC LIMIT ?", [*params, limit])
    return [{**r, "occurred_at": rfc3339(r["occurred_at"])} for r in rows]


def search_orders(tx, text: str, limit: int = SEARCH_LIMIT) -> list[dict]:
    """Orders whose id, number, checkout or customer equals ``text`` (newest first)."""
    sql = ("SELECT order_id, order_number, checkout_id, customer_id, status, currency, "
           "amount_total, amount_captured, amount_refunded, created_at FROM orders")
    params: list = []
    if text:
        sql += " WHERE order_id = ? OR order_number = ? OR checkout_id = ? OR customer_id = ?"
        params = [text] * 4
    rows = tx.fetchall(sql + " ORDER BY created_at DESC, order_id DESC LIMIT ?", [*params, limit])
    return [{**r, "created_at": rfc3339(r["created_at"])} for r in rows]



class ConsoleReads:
    """The console's reads on one read database, each in its own snapshot."""

    def __init__(self, db) -> None:
        self.db = db

    def checkouts_by_status(self) -> dict[str, int]:
        with self.db.read() as tx:
            return checkouts_by_status(tx)

    def reservations_held(self) -> list[dict]:
        with self.db.read() as tx:
            return reservations_held(tx)

    def checkouts_per_minute(self, now: datetime, minutes: int = 60) -> list[tuple[datetime, int]]:
        with self.db.read() as tx:
            return checkouts_per_minute(tx, now, minutes)

    def search_payments(self, text: str) -> list[dict]:
        with self.db.read() as tx:
            return search_payments(tx, text)

    def search_orders(self, text: str) -> list[dict]:
        with self.db.read() as tx:
            return search_orders(tx, text)

