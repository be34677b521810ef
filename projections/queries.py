"""Reads of the served projection tables, shaped for the API."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

from projections.base import rfc3339, ts

ORDER_FIELDS = ("order_id", "order_number", "checkout_id", "customer_id", "status", "currency",
                "amount_total", "amount_refunded", "items", "created_at", "paid_at")
IN_FLIGHT = ("processing", "awaiting_payment", "requires_action", "needs_attention")


class InvalidCursorError(ValueError):
    pass


def encode_cursor(created_at: str, order_id: str) -> str:
    raw = json.dumps([created_at, order_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at, order_id = json.loads(raw)
        if not isinstance(created_at, str) or not isinstance(order_id, str):
            raise TypeError
    except (ValueError, TypeError, RecursionError) as exc:
        raise InvalidCursorError("cursor is not one this API issued") from exc
    return created_at, order_id


def _bound(value: datetime | str | None) -> str | None:
    if value is None or isinstance(value, datetime):
        return ts(value)
    return ts(datetime.fromisoformat(value.replace("Z", "+00:00")))


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


UNFULFILLED = {"status": "unfulfilled", "carrier": None, "tracking_number": None,
               "shipped_at": None, "delivered_at": None}


def order_view(row: dict) -> dict:
    view = {k: row[k] for k in ORDER_FIELDS}
    view["items"] = _json(row["items"])
    view["created_at"] = rfc3339(row["created_at"])
    view["paid_at"] = rfc3339(row["paid_at"])
    # v2 (CONTRACT §3.2)
    subtotal = row.get("amount_subtotal")
    view["amount_subtotal"] = int(row["amount_total"] if subtotal is None else subtotal)
    view["amount_tax"] = int(row.get("amount_tax") or 0)
    view["amount_shipping"] = int(row.get("amount_shipping") or 0)
    view["shipping_address"] = _json(row.get("shipping_address"))
    view["billing_address"] = _json(row.get("billing_address"))
    view["invoice_number"] = row.get("invoice_number")
    fulfillment = _json(row.get("fulfillment")) or UNFULFILLED
    view["fulfillment"] = {**fulfillment, "shipped_at": rfc3339(fulfillment.get("shipped_at")),
                           "delivered_at": rfc3339(fulfillment.get("delivered_at"))}
    return view


def list_orders(tx, *, customer_id=None, status=None, created_after=None, created_before=None,
                limit: int = 50, cursor: str | None = None, fulfillment_status=None,
                seller_id=None) -> tuple[list[dict], str | None]:
    where, params = [], []
    for column, value in (("customer_id", customer_id), ("status", status),
                          ("fulfillment_status", fulfillment_status), ("seller_id", seller_id)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if (after := _bound(created_after)) is not None:
        where.append("created_at > ?")
        params.append(after)
    if (before := _bound(created_before)) is not None:
        where.append("created_at < ?")
        params.append(before)
    if cursor:
        at, order_id = decode_cursor(cursor)
        where.append("(created_at < ? OR (created_at = ? AND order_id < ?))")
        params += [at, at, order_id]
    sql = "SELECT * FROM orders" + (f" WHERE {' AND '.join(where)}" if where else "")
    rows = tx.fetchall(f"{sql} ORDER BY created_at DESC, order_id DESC LIMIT ?", [*params, limit + 1])
    page = rows[:limit]
    next_cursor = encode_cursor(page[-1]["created_at"], page[-1]["order_id"]) if len(rows) > limit else None
    return [order_view(r) for r in page], next_cursor


def list_ops_checkouts(tx, *, status: str | None = None, older_than_seconds: float | None = None,
                       now: datetime | None = None) -> list[str]:
    statuses = (status,) if status else IN_FLIGHT
    params: list = list(statuses)
    sql = f"SELECT checkout_id FROM ops_checkouts WHERE status IN ({', '.join('?' * len(statuses))})"
    if older_than_seconds is not None:
        sql += " AND updated_at < ?"
        params.append(ts((now or datetime.now(UTC)) - timedelta(seconds=older_than_seconds)))
    return [r["checkout_id"] for r in tx.fetchall(sql + " ORDER BY updated_at, checkout_id", params)]


def inventory_level(tx, sku: str) -> dict | None:
    row = tx.fetchone("SELECT sku, on_hand, reserved, available, sold FROM inventory_levels "
                      "WHERE sku = ?", (sku,))
    return None if row is None else {k: (int(v) if k != "sku" else v) for k, v in row.items()}


def latest_reconciliation_report(tx) -> dict | None:
    row = tx.fetchone("SELECT report FROM reconciliation_reports "
                      "ORDER BY created_at DESC, report_id DESC LIMIT 1")
    return json.loads(row["report"]) if row else None
