"""Reconciliation, pure: what Stripe says (payment intents, refunds) against what the event
streams say (checkouts, orders) → typed discrepancies, each with the fix it calls for.

Types: ``orphan_intent`` (an intent no checkout knows, or whose checkout ended without it),
``amount_mismatch``, ``capture_without_paid_order``, ``unknown_refund`` and
``missed_webhook`` (found by the adapter while backfilling Stripe's events list) and
``open_dispute`` (a chargeback an operator must answer). Fixes:
``cancel_intent`` (safe: an uncaptured intent nobody will capture), ``apply_event`` (safe:
the inbox makes it idempotent), ``needs_attention`` (money moved; a person decides) or
``record_refund`` (safe: a refund made in Stripe's dashboard is recorded on its order once,
with no restock) or ``none`` (recorded only)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import msgspec

from checkout_saga import ports
from checkout_saga.checkout import CheckoutState
from checkout_saga.order import OrderState

UNCAPTURED_LIVE = frozenset({"requires_payment_method", "requires_confirmation",
                             "requires_action", "processing", "requires_capture"})
ENDED = frozenset({"failed", "cancelled", "expired"})
PAID = frozenset({"paid", "partially_refunded", "refunded"})


class Discrepancy(msgspec.Struct, frozen=True, kw_only=True):
    type: str
    fix: str  # cancel_intent | apply_event | record_refund | needs_attention | none
    detail: str
    payment_intent_id: str | None = None
    checkout_id: str | None = None
    event_id: str | None = None
    refund_id: str | None = None
    outcome: str | None = None  # what applying the fix did (filled in by the adapter)


def compare_intent(intent: ports.PaymentIntentSnapshot, checkout: CheckoutState | None,
                   order: OrderState | None) -> list[Discrepancy]:
    """One provider intent against its checkout (by ``metadata.checkout_id``) and order."""
    ref = {"payment_intent_id": intent.id, "checkout_id": intent.checkout_id}
    known = checkout is not None and checkout.payment_intent_id == intent.id
    if intent.status == "succeeded":
        if order is None or order.status not in PAID or order.payment_intent_id not in (None, intent.id):
            return [Discrepancy(type="capture_without_paid_order", fix="needs_attention", **ref,
                                detail=f"captured {intent.amount_received} {intent.currency}; order is "
                                       f"{order.status if order else 'missing'}")]
        return _amounts(intent, checkout)
    if intent.status not in UNCAPTURED_LIVE:
        return []
    if checkout is None:
        return [Discrepancy(type="orphan_intent", fix="cancel_intent", **ref,
                            detail=f"{intent.status} intent with no checkout")]
    if checkout.status in ENDED or not known and checkout.payment_intent_id is not None:
        return [Discrepancy(type="orphan_intent", fix="cancel_intent", **ref,
                            detail=f"{intent.status} intent; its checkout is {checkout.status}"
                                   + ("" if known else f" with {checkout.payment_intent_id}"))]
    return _amounts(intent, checkout) if known else []


def _amounts(intent: ports.PaymentIntentSnapshot, checkout: CheckoutState | None) -> list[Discrepancy]:
    if checkout is None or intent.amount == checkout.amount_total:
        return []
    return [Discrepancy(type="amount_mismatch", fix="needs_attention", payment_intent_id=intent.id,
                        checkout_id=intent.checkout_id,
                        detail=f"Stripe {intent.amount}, checkout {checkout.amount_total}")]


def compare_refunds(refunds: Iterable[ports.RefundSnapshot],
                    orders_by_intent: Mapping[str, OrderState]) -> list[Discrepancy]:
    found = []
    for refund in refunds:
        if refund.status != "succeeded":
            continue
        order = orders_by_intent.get(refund.payment_intent_id)
        known = order is not None and any(r.provider_refund_id == refund.id or r.refund_id == refund.refund_key
                                          for r in order.refunds.values())
        if not known:
            # made outside this service (the dashboard): safe to record on its order (no
            # restock); a refund no order of ours explains is for a person
            found.append(Discrepancy(type="unknown_refund",
                                     fix="record_refund" if order is not None else "needs_attention",
                                     payment_intent_id=refund.payment_intent_id,
                                     checkout_id=order.checkout_id if order else None,
                                     refund_id=refund.id,
                                     detail=f"succeeded refund of {refund.amount} not in the ledger"))
    return found


def open_disputes(orders: Iterable[OrderState]) -> list[Discrepancy]:
    """Every order with a dispute not yet closed: an operator must answer it at Stripe
    before its deadline (shown in the report until it is ``won`` or ``lost``)."""
    found = []
    for order in orders:
        d = order.dispute
        if d is not None and d.status not in ("won", "lost"):
            found.append(Discrepancy(type="open_dispute", fix="none",
                                     payment_intent_id=order.payment_intent_id,
                                     checkout_id=order.checkout_id,
                                     detail=f"dispute {d.dispute_id} ({d.reason}) of {d.amount} is "
                                            f"{d.status}: respond at Stripe"))
    return found
