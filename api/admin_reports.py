"""/admin (admin key): the transaction log (JSON, or CSV with ``Accept: text/csv``) and the
daily report (CONTRACT §3.10)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import date
from typing import Annotated

from litestar import Controller, Request, Response, get
from litestar.params import FromQuery, QueryParameter
from litestar.response import Stream

from api.auth import admin_guard
from api.context import strict_query
from api.ledger_support import ledger_db, one_of
from api.openapi import BEARER, problems_for
from api.orders import Timestamp, _rfc3339
from api.problems import ApiError
from api.schemas import Response as Body
from projections import payment_queries as q
from projections.reports import MAX_DAYS, daily_report
from projections.transactions import TYPES

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CURRENCY = re.compile(r"[a-z]{3}")


class TransactionListOut(Body):
    items: list[dict]
    next_cursor: str | None


class DailyReportOut(Body):
    currency: str
    days: list[dict]


def _invalid(field: str, message: str) -> ApiError:
    return ApiError(422, "validation_error", "the request is not valid",
                    errors=[{"field": field, "message": message}])


def _date(field: str, value: str | None) -> date:
    if value is None:
        raise _invalid(field, "is required (YYYY-MM-DD)")
    try:
        if not _DATE.fullmatch(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise _invalid(field, "must be a date (YYYY-MM-DD)") from None


def wants_csv(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/csv" in accept and "application/json" not in accept


def csv_lines(rows: Iterator[dict]) -> Iterator[str]:
    """A header line, then one line per transaction; written as it is read."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=q.TRANSACTION_FIELDS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(row)
    yield buffer.getvalue()


class AdminReportsController(Controller):
    path = "/admin"
    tags = ["reports"]
    security = BEARER

    @get("/transactions", guards=[admin_guard], sync_to_thread=True,
         responses=problems_for(401, 403, 422, 503))
    def transactions(
        self, request: Request, created_after: Timestamp = None, created_before: Timestamp = None,
        type_: Annotated[str | None, QueryParameter(name="type", required=False,
                                                    enum=list(TYPES))] = None,
        limit: Annotated[int | None, QueryParameter(ge=1, le=500, required=False)] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Response:
        """The transaction log, newest first. ``Accept: text/csv``: the same rows as CSV (a
        header line first); without ``limit`` the whole selection, streamed."""
        strict_query(request, "created_after", "created_before", "type", "limit", "cursor")
        query = {"type_": one_of("type", type_, TYPES),
                 "created_after": _rfc3339("created_after", created_after),
                 "created_before": _rfc3339("created_before", created_before)}
        db = ledger_db(request)
        if wants_csv(request) and limit is None:
            q.decode_cursor(cursor) if cursor else None  # a bad cursor is a 422 before streaming
            rows = q.iter_transactions(db, cursor=cursor, **query)
            return Stream(csv_lines(rows), media_type="text/csv; charset=utf-8",
                          headers={"Content-Disposition": 'attachment; filename="transactions.csv"'})
        with db.read() as tx:
            rows, next_cursor = q.list_transactions(tx, limit=limit or 50, cursor=cursor, **query)
        if wants_csv(request):
            headers = {"X-Next-Cursor": next_cursor} if next_cursor else {}
            return Response("".join(csv_lines(iter(rows))), media_type="text/csv; charset=utf-8",
                            headers=headers)
        return Response(TransactionListOut(items=rows, next_cursor=next_cursor))

    @get("/reports/daily", guards=[admin_guard], sync_to_thread=True,
         responses=problems_for(401, 403, 422, 503))
    def daily(self, request: Request,
              from_: Annotated[str, QueryParameter(name="from", schema_extra={"format": "date"},
                                                   description="first day (UTC), YYYY-MM-DD")],
              to: Annotated[str, QueryParameter(schema_extra={"format": "date"},
                                                description="last day (UTC), YYYY-MM-DD")],
              currency: Annotated[str, QueryParameter(pattern="^[a-z]{3}$")] = "usd",
              ) -> DailyReportOut:
        """Per UTC day from ``from`` to ``to`` (inclusive): checkouts, payments and money,
        every money figure the sum of that day's transaction log rows."""
        strict_query(request, "from", "to", "currency")
        first, last = _date("from", from_), _date("to", to)
        if last < first:
            raise _invalid("to", "must not be before from")
        if (last - first).days >= MAX_DAYS:
            raise _invalid("to", f"at most {MAX_DAYS} days per report")
        if not _CURRENCY.fullmatch(currency):
            raise _invalid("currency", "must be a lower-case ISO 4217 code (usd)")
        with ledger_db(request).read() as tx:
            days = daily_report(tx, first=first, last=last, currency=currency)
        return DailyReportOut(currency=currency, days=days)
