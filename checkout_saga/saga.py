"""The checkout saga's decisions: pure functions from (state, input, now) to a Decision.

Forward: reserve every line or none → create order → re-check seller → create intent
(confirming when a payment method is known) → on authorization commit stock → capture →
order paid → completed. Undo, in reverse: cancel intent → release stock → cancel order.
Capture is the pivot; an unknown outcome is retried with the same key, never compensated.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

import msgspec

from checkout_saga import effects as fx
from checkout_saga import errors
from checkout_saga.catalog import ProductState, SellerState
from checkout_saga.checkout import CheckoutState, fold_checkout
from checkout_saga.commands import StartCheckout
from checkout_saga.decision import Decision, EventWriter, refusals_as_errors
from checkout_saga.ids import (
    inventory_stream,
    order_id_of,
    order_number_for,
    order_stream,
    step_key,
)
from checkout_saga.inventory import InventoryState
from checkout_saga.pricing import Pricing
from checkout_saga.validation import validate_start
from events import checkout as ev
from events import inventory as inv_ev
from events import order as ord_ev
from events.base import Cause, LineItem

# --- start ---------------------------------------------------------------------------------


#: How long stock is held for an unpaid checkout unless configured otherwise (seed 002).
DEFAULT_RESERVATION_TTL = timedelta(seconds=900)


@refusals_as_errors
def decide_start(
    cmd: StartCheckout,
    existing: CheckoutState | None,
    products: Mapping[str, ProductState | None],
    sellers: Mapping[str, SellerState | None],
    inventory: Mapping[str, InventoryState | None],
    *,
    stream_id,
    now: datetime,
    reservation_ttl: timedelta,
    cause: Cause | None = None,
    pricing: Pricing | None = None,
) -> Decision:
    """Reserve every line (or refuse), place the order and ask for the payment intent. Tax,
    shipping and the default currency come from ``pricing`` and are fixed in the first event."""
    pricing = pricing or Pricing()
    validate_start(cmd)
    fingerprint = cmd.fingerprint()  # of the request as sent, before defaults are filled in
    if existing is not None:
        if existing.request_fingerprint != fingerprint:
            raise errors.IdempotencyConflictError(
                "checkout_session_id was already used with a different body",
                checkout_id=existing.checkout_id,
            )
        return Decision(effects=_next(existing, now))
    if cmd.currency is None:
        cmd = msgspec.structs.replace(cmd, currency=pricing.default_currency)
    lines = _priced_lines(cmd, products)
    w = EventWriter(now, cause)
    s = _started_state(w, cmd, fingerprint, stream_id, lines, now + reservation_ttl, pricing)
    if not _sellers_can_accept(cmd, products, sellers):
        error = errors.SellerCannotAcceptPaymentsError(
            "the seller cannot accept payments yet", checkout_id=s.checkout_id)
        w.checkout(s, ev.CheckoutFailed, code=error.code, message=error.message)
        return w.decision(error=error)
    short = [ev.ShortLine(sku=line.sku, requested=line.quantity,
                          available=_available(inventory, line.sku))
             for line in lines if _available(inventory, line.sku) < line.quantity]
    if short:
        return _refuse(w, s, short)
    s = _reserve_and_place_order(w, s, cmd, lines, inventory, _seller_of(cmd, products))
    s = w.checkout(s, ev.PaymentStepRequested, step="create_intent",
                   idempotency_key=step_key(s.checkout_id, "create_intent"),
                   payment_method=s.payment_method, return_url=cmd.return_url)
    return w.decision(_next(s, now))


def _refuse(w: EventWriter, s: CheckoutState, short: list[ev.ShortLine]) -> Decision:
    """Reserve every line or none: record the refusal; nothing is reserved."""
    s = w.checkout(s, ev.StockReservationRefused, lines=short)
    w.checkout(s, ev.CheckoutFailed, code="insufficient_stock",
               message="not enough stock for " + ", ".join(x.sku for x in short))
    return w.decision(error=errors.InsufficientStockError(
        "not enough stock", checkout_id=s.checkout_id,
        lines=[{"sku": x.sku, "requested": x.requested, "available": x.available} for x in short]))


def _reserve_and_place_order(w: EventWriter, s: CheckoutState, cmd: StartCheckout,
                             lines: list[LineItem], inventory, seller_id: str | None) -> CheckoutState:
    for line in lines:
        item = inventory.get(line.sku)
        w.emit(item.id if item else inventory_stream(line.sku), item.version if item else 0,
               inv_ev.UnitsReserved, sku=line.sku, checkout_id=s.checkout_id,
               quantity=line.quantity, expires_at=s.expires_at)
    s = w.checkout(s, ev.StockReserved, items=list(lines))
    order_sid = order_stream(s.id)
    order_id, order_number = order_id_of(order_sid), order_number_for(order_sid, w.now.year)
    w.emit(order_sid, 0, ord_ev.OrderPlaced, order_id=order_id, order_number=order_number,
           checkout_id=s.checkout_id, customer_id=cmd.customer_id, currency=cmd.currency,
           items=list(lines), amount_total=s.amount_total, amount_subtotal=s.amount_subtotal,
           amount_tax=s.amount_tax, amount_shipping=s.amount_shipping,
           shipping_address=s.shipping_address, billing_address=s.billing_address,
           customer_email=cmd.customer_email, seller_id=seller_id, tax_rate=s.tax_rate)
    return w.checkout(s, ev.OrderAttached, order_id=order_id, order_number=order_number)


def _started_state(w, cmd, fingerprint, stream_id, lines, expires_at, pricing) -> CheckoutState:
    amounts = pricing.quote(sum(line.quantity * line.unit_amount for line in lines))
    payer = cmd.payer  # saved cards (§3.9): "default" resolved, the Stripe customer attached
    saved_cards = {"payment_method": cmd.payment_method} if payer is None else dict(
        payment_method=payer.payment_method, stripe_customer_id=payer.stripe_customer_id,
        off_session=payer.off_session, save_payment_method=payer.save_payment_method)
    event = w.emit(stream_id, 0, ev.CheckoutStarted,
                   checkout_session_id=cmd.checkout_session_id,
                   request_fingerprint=fingerprint, customer_id=cmd.customer_id,
                   customer_email=cmd.customer_email, currency=cmd.currency, items=list(lines),
                   amount_subtotal=amounts.subtotal, amount_tax=amounts.tax,
                   amount_shipping=amounts.shipping, amount_total=amounts.total,
                   return_url=cmd.return_url, expires_at=expires_at,
                   shipping_address=cmd.shipping_address, billing_address=cmd.billing_address,
                   tax_rate=pricing.tax_rate, **saved_cards)
    return fold_checkout(None, [event])


def _seller_of(cmd: StartCheckout, products: Mapping[str, ProductState | None]) -> str | None:
    """The order's seller: the seller of its first line (invoices are numbered per seller)."""
    product = products.get(cmd.items[0].sku) if cmd.items else None
    return product.seller_id if product else None


def _priced_lines(cmd: StartCheckout, products: Mapping[str, ProductState | None]) -> list[LineItem]:
    lines = []
    for index, line in enumerate(cmd.items):
        product = products.get(line.sku)
        if product is None:
            raise errors.UnknownSkuError(f"unknown sku {line.sku}", sku=line.sku)
        if not product.active:
            raise errors.ProductUnavailableError(f"product {line.sku} is not available", sku=line.sku)
        if product.currency != cmd.currency:
            raise errors.ValidationError([
                (f"items[{index}].sku", f"priced in {product.currency}, checkout is in {cmd.currency}")
            ])
        lines.append(LineItem(sku=line.sku, quantity=line.quantity, unit_amount=product.unit_amount))
    return lines


def _sellers_can_accept(cmd, products, sellers) -> bool:
    for line in cmd.items:
        seller = sellers.get(products[line.sku].seller_id)
        if seller is None or not seller.charges_enabled:
            return False
    return True


def _available(inventory: Mapping[str, InventoryState | None], sku: str) -> int:
    item = inventory.get(sku)
    return item.available if item else 0


# --- what to do next -----------------------------------------------------------------------


def next_effect(s: CheckoutState, now: datetime) -> fx.Effect | None:
    """The external call the saga waits on, if it is due: recovery re-runs exactly this."""
    if s.is_terminal or s.status == "needs_attention":
        return None
    comp = s.compensation
    if comp is not None:
        if not comp.remaining or comp.remaining[0] != "cancel_intent":
            return None
        if comp.retry_at is not None and comp.retry_at > now:
            return None
        return fx.CancelPaymentIntent(
            checkout_id=s.checkout_id, payment_intent_id=s.payment_intent_id,
            idempotency_key=step_key(s.checkout_id, "cancel_intent"),
            unless_authorized=comp.target_status == "expired")
    p = s.pending
    if p is None or (p.retry_at is not None and p.retry_at > now):
        return None
    if p.step == "create_intent":
        return fx.CreatePaymentIntent(
            checkout_id=s.checkout_id, order_id=s.order_id or "", amount=s.amount_total,
            currency=s.currency, idempotency_key=p.idempotency_key,
            payment_method=p.payment_method, return_url=p.return_url,
            customer=s.stripe_customer_id, off_session=s.off_session,
            setup_future_usage="off_session" if s.save_payment_method else None)
    if p.step == "confirm" and s.payment_intent_id:
        return fx.ConfirmPaymentIntent(
            payment_intent_id=s.payment_intent_id, idempotency_key=p.idempotency_key,
            payment_method=p.payment_method, return_url=p.return_url)
    if p.step == "capture" and s.payment_intent_id:
        return fx.CapturePayment(payment_intent_id=s.payment_intent_id, amount=s.amount_total,
                                 idempotency_key=p.idempotency_key)
    return fx.SyncPaymentIntent(checkout_id=s.checkout_id, payment_intent_id=s.payment_intent_id)


def _next(s: CheckoutState, now: datetime) -> list[fx.Effect]:
    effect = next_effect(s, now)
    return [effect] if effect is not None else []


def next_due_at(s: CheckoutState) -> datetime | None:
    """When the saga next needs the clock: a retry, or the reservation's expiry."""
    if s.is_terminal or s.status == "needs_attention":
        return None
    if s.compensation is not None:
        return s.compensation.retry_at
    if s.pending is not None and s.pending.retry_at is not None:
        return s.pending.retry_at
    if s.holds_unpaid_stock:
        return s.expires_at
    return None
