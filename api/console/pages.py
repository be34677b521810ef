"""The console's pages (GET): dashboard, the checkouts queue, a checkout's timeline, payments
search, the reconciliation report and the outbox. Each reads through the application's
queries and the projections and renders a template; none decides anything."""

from __future__ import annotations

from litestar import Controller, Request, Response, get
from litestar.params import FromPath

from api.console.chart import per_minute_chart
from api.console.render import render
from api.console.timeline import moment, state_fields, timeline
from api.context import checkouts_of, read_models_of, system_of
from projections.console_reads import ConsoleReads

QUEUE_STATUSES = ("needs_attention", "processing", "awaiting_payment", "requires_action")
OUTBOX_STATUSES = ("pending", "sent", "failed")
MAX_AGE_MINUTES = 10 * 366 * 24 * 60
QUEUE_PAGE = 100  # each row replays its checkout: the oldest first, a bounded number


def _reads(request: Request) -> ConsoleReads | None:
    models = read_models_of(request)
    return None if models is None else ConsoleReads(models.db)


def _int_or_none(raw: str | None, low: int, high: int) -> int | None:
    if raw is None or not raw.strip().isdigit():
        return None
    value = int(raw)
    return value if low <= value <= high else None


class ConsolePages(Controller):
    path = "/"
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def dashboard(self, request: Request) -> Response:
        reads = _reads(request)
        if reads is None:
            return render("dashboard.html", request, available=False)
        models = read_models_of(request)
        series = reads.checkouts_per_minute(system_of(request).clock.now())
        return render("dashboard.html", request, available=True,
                      by_status=reads.checkouts_by_status(), held=reads.reservations_held(),
                      lag=models.status(), chart=per_minute_chart(series))

    @get("/checkouts", sync_to_thread=True)
    def queue(self, request: Request) -> Response:
        status = request.query_params.get("status") or "needs_attention"
        if status not in QUEUE_STATUSES:
            status = "needs_attention"
        minutes = _int_or_none(request.query_params.get("older_than_minutes"), 0, MAX_AGE_MINUTES)
        models = read_models_of(request)
        ids = [] if models is None else models.list_ops_checkouts(
            status=status, older_than_seconds=None if minutes is None else minutes * 60)
        service = checkouts_of(request)
        return render("queue.html", request, status=status, statuses=QUEUE_STATUSES,
                      older_than_minutes=minutes, available=models is not None, found=len(ids),
                      checkouts=[service.get(i) for i in ids[:QUEUE_PAGE]], moment=moment)

    @get("/checkouts/{checkout_id:str}", sync_to_thread=True)
    def checkout(self, request: Request, checkout_id: FromPath[str]) -> Response:
        service = checkouts_of(request)
        history = service.history(checkout_id)
        latest = history[-1].originator_version
        at = _int_or_none(request.query_params.get("at_version"), 1, latest) or latest
        state = service.get(checkout_id, at_version=at)
        return render("checkout.html", request, checkout_id=checkout_id, entries=timeline(history),
                      at_version=at, latest_version=latest, state=state_fields(state),
                      status=state.status, current=service.get(checkout_id) if at != latest else state)

    @get("/payments", sync_to_thread=True)
    def payments(self, request: Request) -> Response:
        text = (request.query_params.get("q") or "").strip()[:200]
        reads = _reads(request)
        return render("payments.html", request, q=text, available=reads is not None,
                      payments=reads.search_payments(text) if reads else [],
                      orders=reads.search_orders(text) if reads else [])

    @get("/reconciliation", sync_to_thread=True)
    def reconciliation(self, request: Request) -> Response:
        models = read_models_of(request)
        report = None if models is None else models.latest_reconciliation_report()
        return render("reconciliation.html", request, report=report)

    @get("/outbox", sync_to_thread=True)
    def outbox(self, request: Request) -> Response:
        status = request.query_params.get("status")
        status = status if status in OUTBOX_STATUSES else None
        items = system_of(request).notifications.outbox.items(status)
        return render("outbox.html", request, items=items, status=status,
                      statuses=OUTBOX_STATUSES)
