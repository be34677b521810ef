"""Refund decisions: validated against what is refundable, idempotent by key, tracked one
by one; stock goes back on hand only once the refund succeeded."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

import msgspec

from checkout_saga import effects as fx
from checkout_saga import errors, ports
from checkout_saga.commands import RefundOrder
from checkout_saga.decision import Decision, EventWriter, refusals_as_errors
from checkout_saga.ids import refund_id_for, step_key
from checkout_saga.inventory import InventoryState
from checkout_saga.order import OrderState, RefundState
from events import inventory as inv_ev
from events import order as ord_ev
from events.base import Cause, LineItem

REFUND_REASONS = ("requested_by_customer", "duplicate", "fraudulent")


class RefundPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """CONTRACT §1 v2: refunds are allowed while ``now < paid_at + window_days`` (0: none);
    above ``approval_above`` (minor units) a refund waits for a second admin (None: never)."""

    window_days: int = 90
    approval_above: int | None = None

    def window_ends_at(self, paid_at: datetime) -> datetime:
        return paid_at + timedelta(days=self.window_days)

    def needs_approval(self, amount: int) -> bool:
        return self.approval_above is not None and amount > self.approval_above


def refund_effect(order: OrderState, refund: RefundState) -> fx.CreateRefund:
    return fx.CreateRefund(order_id=order.order_id, refund_id=refund.refund_id,
                           payment_intent_id=order.payment_intent_id or "", amount=refund.amount,
                           reason=refund.reason, idempotency_key=step_key(order.order_id, refund.refund_id))


@refusals_as_errors
def decide_refund(
    order: OrderState, cmd: RefundOrder, *, now: datetime, cause: Cause | None = None,
    policy: RefundPolicy = RefundPolicy(), requested_by: str | None = None,  # noqa: B008
) -> Decision:
    w = EventWriter(now, cause)
    refund_id = refund_id_for(order.id, cmd.idempotency_key)
    existing = order.refunds.get(refund_id)
    if existing is not None:
        if existing.request_fingerprint != cmd.fingerprint():
            raise errors.IdempotencyConflictError(
                "Idempotency-Key was already used for a different refund", refund_id=refund_id)
        pending = existing.status == "requested"
        return w.decision([refund_effect(order, existing)] if pending else [])
    if cmd.reason is not None and cmd.reason not in REFUND_REASONS:
        raise errors.ValidationError([("reason", "must be one of " + ", ".join(REFUND_REASONS))])
    if order.status not in ("paid", "partially_refunded"):
        raise errors.OrderNotPaidError(f"order is {order.status}", order_id=order.order_id)
    _check_window(order, cmd, policy, now)
    amount = order.refundable if cmd.amount is None else cmd.amount
    if amount <= 0 and cmd.amount is not None:
        raise errors.ValidationError([("amount", "must be a positive integer")])
    if amount > order.refundable or amount <= 0:
        raise errors.RefundExceedsRemainingError(
            f"refund of {amount} exceeds the refundable {order.refundable}",
            refundable=order.refundable)
    restock = _restock_lines(order, cmd, full=amount == order.refundable)
    awaiting_approval = policy.needs_approval(amount)
    event = w.emit(order.id, order.version, ord_ev.RefundRequested, refund_id=refund_id,
                   amount=amount, reason=cmd.reason, restock=restock,
                   idempotency_key=cmd.idempotency_key, request_fingerprint=cmd.fingerprint(),
                   requested_by=requested_by, override_window=_overridden(order, cmd, policy, now),
                   awaiting_approval=awaiting_approval)
    if awaiting_approval:
        return w.decision()  # nothing goes to Stripe before a second admin approves
    refund = RefundState(refund_id=refund_id, amount=amount, status="requested", reason=cmd.reason,
                         restock=tuple(restock), idempotency_key=cmd.idempotency_key,
                         request_fingerprint=cmd.fingerprint(), provider_refund_id=None,
                         created_at=event.occurred_at)
    return w.decision([refund_effect(order, refund)])


def _window_closed(order: OrderState, policy: RefundPolicy, now: datetime) -> bool:
    return order.paid_at is None or now >= policy.window_ends_at(order.paid_at)


def _overridden(order: OrderState, cmd: RefundOrder, policy: RefundPolicy, now: datetime) -> bool:
    """Recorded on the refund: it was asked after the window, with an explicit override."""
    return cmd.override_window and _window_closed(order, policy, now)


def _check_window(order: OrderState, cmd: RefundOrder, policy: RefundPolicy, now: datetime) -> None:
    if _window_closed(order, policy, now) and not cmd.override_window:
        ends = policy.window_ends_at(order.paid_at) if order.paid_at else None
        raise errors.RefundWindowExpiredError(
            f"the refund window of {policy.window_days} days after payment has ended; "
            "send \"override_window\": true to refund anyway",
            order_id=order.order_id, window_days=policy.window_days,
            window_ended_at=ends.isoformat() if ends else None)


def _restock_lines(order: OrderState, cmd: RefundOrder, *, full: bool) -> list[LineItem]:
    promised: dict[str, int] = {}
    for r in order.refunds.values():
        if r.status not in ("failed", "rejected"):
            for line in r.restock:
                promised[line.sku] = promised.get(line.sku, 0) + line.quantity
    bought = {line.sku: line.quantity for line in order.items}
    if cmd.restock is None:
        if not full:
            return []
        return [LineItem(sku=sku, quantity=q - promised.get(sku, 0))
                for sku, q in bought.items() if q - promised.get(sku, 0) > 0]
    return _validated_restock(cmd, bought, promised)


def _validated_restock(cmd: RefundOrder, bought: Mapping[str, int],
                       promised: Mapping[str, int]) -> list[LineItem]:
    """The restock lines as a whole: each SKU once, each in the order, and no more per SKU than
    was sold and not already promised back by another refund."""
    lines, problems, seen = [], [], set()
    for i, line in enumerate(cmd.restock or ()):
        left = bought.get(line.sku, 0) - promised.get(line.sku, 0)
        if line.sku not in bought:
            problems.append((f"restock[{i}].sku", f"{line.sku} is not in the order"))
        elif line.sku in seen:
            problems.append((f"restock[{i}].sku", f"{line.sku} is listed more than once"))
        elif left <= 0:
            problems.append((f"restock[{i}].quantity",
                             f"every unit of {line.sku} is already restocked or being restocked"))
        elif not 1 <= line.quantity <= left:
            problems.append((f"restock[{i}].quantity", f"must be between 1 and {left}"))
        else:
            lines.append(LineItem(sku=line.sku, quantity=line.quantity))
        seen.add(line.sku)
    if problems:
        raise errors.ValidationError(problems)
    return lines


def decide_refund_result(
    order: OrderState, refund_id: str, result: ports.RefundSnapshot | Exception,
    inventory: Mapping[str, InventoryState | None], *, now: datetime, cause: Cause | None = None,
) -> Decision:
    w = EventWriter(now, cause)
    refund = order.refunds.get(refund_id)
    if refund is None or refund.status in ("succeeded", "failed", "rejected", "pending_approval"):
        return w.decision()
    if isinstance(result, ports.PaymentOutcomeUnknownError | ports.PaymentProviderUnavailableError):
        return w.decision()  # stays requested: retried with the same key
    if isinstance(result, Exception):
        w.emit(order.id, order.version, ord_ev.RefundFailed, refund_id=refund_id,
               provider_refund_id=None, reason=str(result) or type(result).__name__)
        return w.decision()
    if result.status == "succeeded":
        w.emit(order.id, order.version, ord_ev.RefundSucceeded, refund_id=refund_id,
               provider_refund_id=result.id, amount=refund.amount)
        _restock(w, order, refund, inventory)
    elif result.status in ("failed", "canceled"):
        w.emit(order.id, order.version, ord_ev.RefundFailed, refund_id=refund_id,
               provider_refund_id=result.id, reason=result.failure_reason or result.status)
    elif refund.status == "requested":
        w.emit(order.id, order.version, ord_ev.RefundSubmitted, refund_id=refund_id,
               provider_refund_id=result.id)
    return w.decision()


def _restock(w: EventWriter, order: OrderState, refund: RefundState, inventory) -> None:
    """Put the refund's units back on hand, once per SKU and never more than this checkout
    still has sold (a refund recorded before restock lines were validated as a whole may
    name a SKU twice)."""
    wanted: dict[str, int] = {}
    for line in refund.restock:
        wanted[line.sku] = wanted.get(line.sku, 0) + line.quantity
    for sku, quantity in wanted.items():
        item = inventory.get(sku)
        if item is None or refund.refund_id in item.restocked_refunds:
            continue
        quantity = min(quantity, item.committed.get(order.checkout_id, 0))
        if quantity > 0:
            w.emit(item.id, item.version, inv_ev.UnitsRestocked, sku=sku,
                   checkout_id=order.checkout_id, refund_id=refund.refund_id, quantity=quantity)
