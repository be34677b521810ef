"""The daily report (CONTRACT §3.10), per UTC day and currency.

Money figures are sums of the transaction log's rows of that day (the same query the log is
served from), so each agrees with it to the cent:
``net = gross - refunds - chargebacks + chargeback_reversals - fees``.
Counts come from the payments projection: ``checkouts_started`` (checkouts started that day),
``checkouts_completed`` and ``orders_paid`` (completed / paid that day), and
``payment_success_rate``: of the payment attempts on the payments created that day, the share
that was authorized (a declined card is a failed attempt; ``null`` when there was none)."""

from __future__ import annotations

from datetime import date, timedelta

from projections.payment_queries import TRANSACTIONS_SQL

MAX_DAYS = 366
_MONEY = {"charge": "gross", "refund": "refunds", "chargeback": "chargebacks",
          "chargeback_reversal": "chargeback_reversals", "fee": "fees"}
_COUNTS = (("started_at", "checkouts_started"), ("completed_at", "checkouts_completed"),
           ("paid_at", "orders_paid"))


def _day_start(day: date) -> str:
    return f"{day.isoformat()}T00:00:00.000000Z"


def _empty(day: date) -> dict:
    return {"date": day.isoformat(), "checkouts_started": 0, "checkouts_completed": 0,
            "payment_success_rate": None, "orders_paid": 0, "gross": 0, "refunds": 0,
            "chargebacks": 0, "chargeback_reversals": 0, "fees": 0, "net": 0}


def daily_report(tx, *, first: date, last: date, currency: str) -> list[dict]:
    """One entry per day from ``first`` to ``last`` (inclusive), days without activity too."""
    days = {}
    day = first
    while day <= last:
        days[day.isoformat()] = _empty(day)
        day += timedelta(days=1)
    bounds = [_day_start(first), _day_start(last + timedelta(days=1))]
    for column, figure in _COUNTS:
        for row in tx.fetchall(
                f"SELECT substr({column}, 1, 10) AS day, COUNT(*) AS n FROM payments "
                f"WHERE currency = ? AND {column} >= ? AND {column} < ? "
                f"GROUP BY substr({column}, 1, 10)", [currency, *bounds]):
            days[row["day"]][figure] = int(row["n"])
    for row in tx.fetchall(
            "SELECT substr(created_at, 1, 10) AS day, SUM(authorized) AS ok, "
            "SUM(declines) AS declined FROM payments WHERE currency = ? AND created_at >= ? "
            "AND created_at < ? GROUP BY substr(created_at, 1, 10)", [currency, *bounds]):
        ok, declined = int(row["ok"] or 0), int(row["declined"] or 0)
        if ok + declined:
            days[row["day"]]["payment_success_rate"] = round(ok / (ok + declined), 4)
    for row in tx.fetchall(
            f"SELECT substr(x.created_at, 1, 10) AS day, x.type AS type, SUM(x.amount) AS total "
            f"FROM ({TRANSACTIONS_SQL}) x WHERE x.currency = ? AND x.created_at >= ? "
            f"AND x.created_at < ? GROUP BY substr(x.created_at, 1, 10), x.type",
            [currency, *bounds]):
        days[row["day"]][_MONEY[row["type"]]] = int(row["total"] or 0)
    for entry in days.values():
        entry["net"] = (entry["gross"] - entry["refunds"] - entry["chargebacks"]
                        + entry["chargeback_reversals"] - entry["fees"])
    return list(days.values())
