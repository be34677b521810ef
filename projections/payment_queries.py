"""Reads of the payments ledger (CONTRACT §3.10): payments with cursor pagination, one
payment with its refunds and disputes, the transaction log, a refund's order."""

from __future__ import annotations

import json
from collections.abc import Iterator

from projections.base import rfc3339
from projections.queries import _bound, decode_cursor, encode_cursor

PAYMENT_STATUSES = ("requires_payment_method", "requires_action", "authorized", "succeeded",
                    "partially_refunded", "refunded", "canceled", "failed", "disputed")
PAYMENT_FIELDS = ("payment_id", "payment_intent_id", "order_id", "checkout_id", "customer_id",
                  "status", "amount", "amount_captured", "amount_refunded", "currency")
TRANSACTION_FIELDS = ("transaction_id", "type", "amount", "currency", "order_id",
                      "payment_intent_id", "stripe_id", "created_at")

# What a transaction row does not say itself comes from its payment (currency, intent) and,
# for a won dispute, from its chargeback (amount).
TRANSACTIONS_SQL = """SELECT t.transaction_id, t.type,
    COALESCE(t.amount, (SELECT c.amount FROM transactions c WHERE c.type = 'chargeback'
                        AND c.stripe_id = t.stripe_id ORDER BY c.created_at LIMIT 1), 0) AS amount,
    COALESCE(t.currency, p.currency) AS currency, t.order_id,
    COALESCE(t.payment_intent_id, p.payment_intent_id) AS payment_intent_id, t.stripe_id,
    t.created_at
  FROM transactions t LEFT JOIN payments p ON p.payment_id = t.payment_id"""


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def payment_view(row: dict) -> dict:
    view = {k: row[k] for k in PAYMENT_FIELDS}
    card = _json(row["card"])
    view["card"] = {"brand": card.get("brand"), "last4": card.get("last4")} if card else None
    view["created_at"] = rfc3339(row["created_at"])
    view["updated_at"] = rfc3339(row["updated_at"])
    return view


def payment_details(row: dict) -> dict:
    view = payment_view(row)
    refunds = sorted(_json(row["refunds"]).values(), key=lambda r: (r["created_at"], r["refund_id"]))
    view["refunds"] = [
        {"refund_id": r["refund_id"], "amount": r["amount"],
         "status": r["status"], "reason": r.get("reason"), "source": r.get("source", "api"),
         "requested_by": r.get("requested_by"), "approved_by": r.get("approved_by"),
         "created_at": rfc3339(r["created_at"])} for r in refunds]
    disputes = sorted(_json(row["disputes"]).values(),
                      key=lambda d: (d.get("opened_at") or "", d["dispute_id"]))
    view["disputes"] = [
        {"dispute_id": d["dispute_id"], "status": d["status"], "reason": d.get("reason"),
         "amount": d.get("amount"), "opened_at": rfc3339(d.get("opened_at")),
         "closed_at": rfc3339(d.get("closed_at"))} for d in disputes]
    return view


def _where(filters: list[tuple[str, object]], created_after, created_before,
           cursor: str | None, id_column: str, prefix: str = "") -> tuple[list[str], list]:
    where, params = [], []
    for column, value in filters:
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if (after := _bound(created_after)) is not None:
        where.append(f"{prefix}created_at > ?")
        params.append(after)
    if (before := _bound(created_before)) is not None:
        where.append(f"{prefix}created_at < ?")
        params.append(before)
    if cursor:
        at, last_id = decode_cursor(cursor)
        where.append(f"({prefix}created_at < ? OR ({prefix}created_at = ? AND {id_column} < ?))")
        params += [at, at, last_id]
    return where, params


def list_payments(tx, *, order_id=None, customer_id=None, status=None, created_after=None,
                  created_before=None, limit: int = 50,
                  cursor: str | None = None) -> tuple[list[dict], str | None]:
    """Newest first; a checkout's payment shows once it has a payment intent."""
    where, params = _where([("order_id", order_id), ("customer_id", customer_id),
                            ("status", status)], created_after, created_before, cursor,
                           "payment_id")
    where.insert(0, "created_at IS NOT NULL")
    rows = tx.fetchall(f"SELECT * FROM payments WHERE {' AND '.join(where)} "
                       "ORDER BY created_at DESC, payment_id DESC LIMIT ?", [*params, limit + 1])
    page = rows[:limit]
    more = len(rows) > limit
    next_cursor = encode_cursor(page[-1]["created_at"], page[-1]["payment_id"]) if more else None
    return [payment_view(r) for r in page], next_cursor


def get_payment(tx, payment_id: str) -> dict | None:
    row = tx.fetchone("SELECT * FROM payments WHERE payment_id = ? AND created_at IS NOT NULL",
                      (payment_id,))
    return None if row is None else payment_details(row)


def transaction_view(row: dict) -> dict:
    view = {k: row[k] for k in TRANSACTION_FIELDS}
    view["amount"] = int(view["amount"])
    view["created_at"] = rfc3339(row["created_at"])
    return view


def list_transactions(tx, *, type_=None, created_after=None, created_before=None,
                      limit: int = 50, cursor: str | None = None,
                      currency: str | None = None) -> tuple[list[dict], str | None]:
    where, params = _where([("x.type", type_), ("x.currency", currency)], created_after,
                           created_before, cursor, "x.transaction_id", prefix="x.")
    sql = f"SELECT * FROM ({TRANSACTIONS_SQL}) x"
    if where:
        sql += f" WHERE {' AND '.join(where)}"
    rows = tx.fetchall(f"{sql} ORDER BY x.created_at DESC, x.transaction_id DESC LIMIT ?",
                       [*params, limit + 1])
    page = rows[:limit]
    more = len(rows) > limit
    next_cursor = encode_cursor(page[-1]["created_at"], page[-1]["transaction_id"]) if more else None
    return [transaction_view(r) for r in page], next_cursor


def iter_transactions(db, *, chunk: int = 1000, **filters) -> Iterator[dict]:
    """Every transaction the filters select, newest first, read a chunk at a time (each chunk
    its own short read), so an export of any size keeps memory flat."""
    cursor = filters.pop("cursor", None)
    while True:
        with db.read() as tx:
            rows, cursor = list_transactions(tx, limit=chunk, cursor=cursor, **filters)
        yield from rows
        if cursor is None:
            return


def order_of_refund(tx, refund_id: str) -> str | None:
    row = tx.fetchone("SELECT order_id FROM refund_index WHERE refund_id = ?", (refund_id,))
    return None if row is None else row["order_id"]
