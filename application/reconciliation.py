"""Reconciliation against Stripe (``checkout-saga reconcile``, and a scheduled job of the
worker): list the window's payment intents, refunds and events from Stripe, compare them with
the checkout and order streams (``checkout_saga.discrepancies``), apply the safe fixes —
cancel an orphaned uncaptured intent, apply an event whose webhook never came, record a
refund made in Stripe's dashboard on its order — hand the rest
to an operator (``needs_attention`` plus an alert line), and record the report in
``reconciliation_reports``, served at ``GET /ops/reconciliation``."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import msgspec
import structlog

from application.checkout_service import CheckoutService
from application.stripe_inbox import PaymentEventInbox
from checkout_saga import ports
from checkout_saga.checkout import fold_checkout
from checkout_saga.discrepancies import (
    Discrepancy,
    compare_intent,
    compare_refunds,
    open_disputes,
)
from checkout_saga.errors import NotFoundError
from checkout_saga.ids import CHECKOUT_PREFIX, order_stream, parse_prefixed
from checkout_saga.order import fold_order
from checkout_saga.stripe_refunds import known_refund
from events.base import Cause
from projections.base import ts
from projections.queries import latest_reconciliation_report

log = structlog.get_logger("reconciliation")

DEFAULT_WINDOW = timedelta(days=1)
CAUSE = Cause(kind="reconciliation", ref="reconcile")


class Reconciler:
    def __init__(self, checkouts: CheckoutService, inbox: PaymentEventInbox,
                 gateway: ports.PaymentGateway, db, *, window: timedelta = DEFAULT_WINDOW,
                 metrics=None) -> None:
        self.checkouts = checkouts
        self.inbox = inbox
        self.gateway = gateway
        self.clock = checkouts.clock
        self.store = checkouts.store
        self.db = db  # adapters.read_database.ReadDatabase holding reconciliation_reports
        self.window = window
        self.metrics = metrics  # a prometheus Counter labelled by type, or None
        self._refunds: dict[str, ports.RefundSnapshot] = {}  # this run's, by Stripe id

    # --- one run ----------------------------------------------------------------------

    def run(self) -> dict:
        started = self.clock.now()
        since = int((started - self.window).timestamp())
        gateway = self.gateway
        found = self._missed_webhooks(gateway.list_events(created_gte=since))
        intents = list(gateway.list_payment_intents(created_gte=since))
        orders_by_intent = {}
        for intent in intents:
            checkout, order = self._streams_of(intent.checkout_id)
            if order is not None:
                orders_by_intent[intent.id] = order
            found.extend(self._fixed(d) for d in compare_intent(intent, checkout, order))
        refunds = list(gateway.list_refunds(created_gte=since))
        self._refunds = {r.id: r for r in refunds}
        found.extend(self._fixed(d) for d in compare_refunds(refunds, orders_by_intent))
        found.extend(self._fixed(d) for d in open_disputes(orders_by_intent.values()))
        report = self._report(started, since, intents, found)
        self._record(report)
        return report

    def _missed_webhooks(self, notices) -> list[Discrepancy]:
        """Stripe's events list, oldest first, through the inbox: an event it had not seen
        is a missed webhook, applied now (the inbox makes this idempotent)."""
        found = []
        for notice in sorted(notices, key=lambda n: (n.created, n.event_id)):
            payload = json.dumps({"source": "reconciliation", "event_id": notice.event_id,
                                  "type": notice.type, "notice": msgspec.to_builtins(notice)})
            if self.inbox.receive(notice, payload):
                continue
            applied = self.inbox.outcome_of(notice.event_id) is not None
            found.append(Discrepancy(type="missed_webhook", fix="apply_event",
                                     outcome="applied" if applied else "deferred (Stripe unreadable)",
                                     event_id=notice.event_id,
                                     payment_intent_id=notice.payment_intent_id,
                                     checkout_id=notice.checkout_id,
                                     detail=f"{notice.type} was never delivered"))
        return found

    def _streams_of(self, checkout_id: str | None):
        sid = parse_prefixed(checkout_id, CHECKOUT_PREFIX) if checkout_id else None
        if sid is None:
            return None, None
        checkout = self.store.get(sid, fold_checkout)
        order = self.store.get(order_stream(sid), fold_order) if checkout else None
        return checkout, order

    # --- fixes ------------------------------------------------------------------------

    def _fixed(self, d: Discrepancy) -> Discrepancy:
        try:
            outcome = {"cancel_intent": self._cancel, "needs_attention": self._escalate,
                       "record_refund": self._record_refund}.get(d.fix, lambda _d: "recorded")(d)
        except Exception as exc:  # a failed fix is reported, and tried again next run
            outcome = f"fix failed: {type(exc).__name__}: {str(exc)[:200]}"
        log.warning("reconciliation_discrepancy", type=d.type, fix=d.fix, outcome=outcome,
                    payment_intent_id=d.payment_intent_id, checkout_id=d.checkout_id,
                    detail=d.detail)
        return msgspec.structs.replace(d, outcome=outcome)

    def _cancel(self, d: Discrepancy) -> str:
        snap = self.gateway.cancel_payment_intent(
            d.payment_intent_id, idempotency_key=f"reconcile:{d.payment_intent_id}:cancel")
        checkout, _ = self._streams_of(d.checkout_id)
        if checkout is not None and checkout.payment_intent_id == snap.id:
            self.checkouts.apply_payment_snapshot(snap, CAUSE)  # its own intent: record it
        return f"cancelled ({snap.status})"

    def _record_refund(self, d: Discrepancy) -> str:
        """A refund made outside the service (Stripe's dashboard): recorded on its order,
        ``source: "stripe"``, no restock — once, however often it is found."""
        _, order = self._streams_of(d.checkout_id)
        snap = self._refunds.get(d.refund_id or "")
        if order is None or snap is None:
            return self._escalate(d)
        outcome = self.inbox.orders.record_stripe_refund(order.order_id, snap, CAUSE)
        if known_refund(self.store.get(order.id, fold_order), snap) is None:
            return self._escalate(d)  # not recordable (it would exceed the captured amount)
        return "recorded" if outcome == "applied" else "already recorded"

    def _escalate(self, d: Discrepancy) -> str:
        log.error("ALERT reconciliation_needs_attention", alert=True, type=d.type,
                  payment_intent_id=d.payment_intent_id, checkout_id=d.checkout_id, detail=d.detail)
        if not d.checkout_id:
            return "alerted (no checkout to flag)"
        try:
            self.checkouts.escalate(d.checkout_id, reason=f"{d.type}: {d.detail}", cause=CAUSE)
        except NotFoundError:
            return "alerted (no checkout to flag)"
        return "needs_attention"

    # --- the report -------------------------------------------------------------------

    def _report(self, started: datetime, since: int, intents, found: list[Discrepancy]) -> dict:
        by_type: dict[str, int] = {}
        for d in found:
            by_type[d.type] = by_type.get(d.type, 0) + 1
            if self.metrics is not None:
                self.metrics.labels(type=d.type).inc()
        return {"report_id": f"rec_{uuid.uuid4().hex[:16]}", "started_at": ts(started),
                "finished_at": ts(self.clock.now()),
                "window_start": ts(datetime.fromtimestamp(since, UTC)),
                "intents_checked": len(intents), "discrepancies_by_type": by_type,
                "discrepancies": [msgspec.to_builtins(d) for d in found]}

    def _record(self, report: dict) -> None:
        with self.db.write() as tx:
            tx.execute("INSERT INTO reconciliation_reports (report_id, created_at, report) "
                       "VALUES (?, ?, ?)", (report["report_id"], report["finished_at"],
                                            json.dumps(report, separators=(",", ":"))))

    def latest_report(self) -> dict | None:
        with self.db.read() as tx:
            return latest_reconciliation_report(tx)


def discrepancy_counter(registry):
    from prometheus_client import Counter

    return Counter("reconciliation_discrepancies_total", "Reconciliation discrepancies by type",
                   ["type"], registry=registry)


def scheduled(reconciler: Reconciler, every_seconds: float):
    """The worker's job: one run per period across all processes, near enough — a run is
    skipped when another process recorded a report within the last half period (two runs
    at once are harmless: every fix is idempotent)."""

    def run() -> None:
        latest = reconciler.latest_report()
        now = reconciler.clock.now()
        if latest is not None:
            finished = datetime.strptime(latest["finished_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
            if (now - finished.replace(tzinfo=UTC)).total_seconds() < every_seconds / 2:
                return
        report = reconciler.run()
        log.info("reconciliation_finished", report_id=report["report_id"],
                 discrepancies=report["discrepancies_by_type"])
    return run
