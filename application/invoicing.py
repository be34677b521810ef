"""Issuing invoices and credit notes (CONTRACT §3.2 v2, invariant 8).

Which: the document is *resumed*, not issued in the payment's own append. Right after an
append that paid an order (or settled a refund) is recorded, ``after_recorded`` issues what
the order is owed, each document in one atomic append with its number (the order stream plus
the seller's sequence stream for the year, under optimistic concurrency). Why: putting the
sequence stream into the capture's append would make every completing checkout of a seller
conflict with every other one and could hold up or fail recording a payment that Stripe has
already taken; here a hot sequence only delays a number. If it cannot be had within the
budget, or the process dies first, ``sweep`` (a worker job) issues it later: the completion
of a checkout never waits on a number it cannot get, and no number is skipped or repeated.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import structlog

from application.catalog_service import CatalogService
from application.command_runner import CommandRunner
from checkout_saga import errors
from checkout_saga.decision import Decision
from checkout_saga.ids import order_id_of
from checkout_saga.invoicing import (
    DueDocument,
    SequenceState,
    decide_issue_document,
    due_document,
    fold_sequence,
    seller_of,
    sequence_stream,
    series_for,
)
from checkout_saga.order import OrderState, fold_order
from events import codec
from events import order as ord_ev
from events.base import Cause, DomainEvent

log = structlog.get_logger("invoicing")

#: How long issuing one document keeps re-deciding on a contended sequence before leaving
#: it to the sweep (the command that paid the order is long recorded by then).
ISSUE_CONFLICT_BUDGET = 2.0
_TRIGGERS = (ord_ev.OrderPaid,)


def _owes_documents(event: DomainEvent) -> bool:
    """Events after which an order may be owed a document: paid, or a refund settled (by
    this service or outside it)."""
    if isinstance(event, _TRIGGERS):
        return True
    return type(event).__module__ == ord_ev.__name__ and "Refund" in type(event).__name__


@dataclass
class _Loaded:
    order: OrderState
    due: DueDocument | None
    sequence: SequenceState | None
    seller_id: str
    now: datetime


class InvoicingService:
    def __init__(self, runner: CommandRunner, catalog: CatalogService) -> None:
        self.runner = runner
        self.store = runner.store
        self.clock = runner.clock
        self.catalog = catalog
        self._swept_to = 0  # notification id the sweep has read up to (in this process)

    # --- issuing ---------------------------------------------------------------------

    def issue_due(self, order_sid: UUID, cause: Cause | None = None) -> OrderState | None:
        """Issue every document the order is owed, one append each; returns the order."""
        cause = cause or Cause(kind="system", ref="invoicing")
        order = self.store.get(order_sid, fold_order)
        for _ in range(1 + len(order.refunds) if order else 0):
            if due_document(order) is None:
                break
            decision, loaded = self.runner.decide_and_append(
                "issue_document", lambda: self._load(order_sid), lambda c: self._decide(c, cause))
            order = fold_order(loaded.order, [e for e in decision.events
                                              if e.originator_id == order_sid])
            for e in decision.events:
                if isinstance(e, ord_ev.InvoiceIssued | ord_ev.CreditNoteIssued):
                    log.info("document_issued", order_id=order.order_id, type=type(e).__name__,
                             number=getattr(e, "invoice_number", None)
                             if isinstance(e, ord_ev.InvoiceIssued) else e.credit_note_number)
        return order

    def _load(self, order_sid: UUID) -> _Loaded:
        now = self.clock.now()
        order = self.store.get(order_sid, fold_order)
        due = due_document(order)
        products = {line.sku: self.catalog.get_product(line.sku) for line in order.items}
        seller_id = seller_of(order, products)
        sequence = None
        if due is not None:
            sequence = self.store.get(sequence_stream(series_for(due.kind, seller_id, now)),
                                      fold_sequence)
        return _Loaded(order=order, due=due, sequence=sequence, seller_id=seller_id, now=now)

    def _decide(self, c: _Loaded, cause: Cause) -> Decision:
        if c.due is None:
            return Decision()
        products = {line.sku: self.catalog.get_product(line.sku) for line in c.order.items}
        return decide_issue_document(c.order, c.due, c.sequence, seller_id=c.seller_id,
                                     seller=self.catalog.get_seller(c.seller_id),
                                     products=products, now=c.now, cause=cause)

    # --- when ----------------------------------------------------------------------------

    def after_recorded(self, events: list) -> None:
        """A ``CommandRunner`` follower: issue what a just-paid (or refunded) order is owed."""
        for order_sid in _orders_owed(events):
            try:
                self.issue_due(order_sid, Cause(kind="system", ref="invoicing"))
            except errors.ConcurrencyConflictError:
                log.info("document_deferred", order_id=order_id_of(order_sid),
                         reason="sequence contended; the sweep issues it")

    def sweep(self, batch: int = 1000) -> int:
        """Issue documents still owed for orders paid or refunded since the last sweep (this
        process's first sweep reads from the first event): the resume path after a crash or
        a contended sequence. Returns how many orders it looked at."""
        looked = 0
        while True:
            page = self.store.notifications(self._swept_to + 1, batch)
            if not page:
                return looked
            events = [codec.decode(n.topic, n.state) for n in page]
            for order_sid in _orders_owed(events):
                looked += 1
                try:
                    self.issue_due(order_sid, Cause(kind="recovery", ref="invoicing_sweep"))
                except errors.ConcurrencyConflictError:
                    log.warning("document_deferred", order_id=order_id_of(order_sid))
                    return looked  # not past this page: the next sweep tries again
            self._swept_to = page[-1].id
            if len(page) < batch:
                return looked


def _orders_owed(events: Iterable[DomainEvent]) -> list[UUID]:
    seen: dict[UUID, None] = {}
    for e in events:
        if _owes_documents(e):
            seen.setdefault(e.originator_id, None)
    return list(seen)
