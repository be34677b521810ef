"""Orders: reads and refunds (validated, idempotent by key, carried out one by one)."""

from __future__ import annotations

from uuid import UUID

from application.catalog_service import CatalogService
from application.command_runner import CommandRunner
from application.payment_effects import PaymentEffects
from checkout_saga import effects as fx
from checkout_saga import errors, ports
from checkout_saga.commands import RefundOrder
from checkout_saga.decision import Decision
from checkout_saga.disputes import decide_dispute
from checkout_saga.ids import ORDER_PREFIX, parse_prefixed
from checkout_saga.order import OrderState, RefundState, fold_order
from checkout_saga.refund_approvals import decide_refund_approval, decide_refund_rejection
from checkout_saga.refunds import RefundPolicy, decide_refund, decide_refund_result, refund_effect
from checkout_saga.stripe_refunds import decide_stripe_refund, known_refund
from events.base import Cause


class OrderService:
    def __init__(self, runner: CommandRunner, catalog: CatalogService,
                 effects: PaymentEffects, *, refund_policy: RefundPolicy | None = None) -> None:
        self.refund_policy = refund_policy or RefundPolicy()
        self.runner = runner
        self.store = runner.store
        self.clock = runner.clock
        self.catalog = catalog
        self.effects = effects

    def get_order(self, order_id: str) -> OrderState:
        sid = parse_prefixed(order_id, ORDER_PREFIX)
        state = self.store.get(sid, fold_order) if sid else None
        if state is None:
            raise errors.NotFoundError(f"no order {order_id}", order_id=order_id)
        return state

    def refund(self, cmd: RefundOrder, cause: Cause | None = None,
               requested_by: str | None = None) -> RefundState:
        decision, order = self.runner.decide_and_append(
            "refund", lambda: self.get_order(cmd.order_id),
            lambda current: decide_refund(current, cmd, now=self.clock.now(), cause=cause,
                                          policy=self.refund_policy, requested_by=requested_by))
        refund_id = next(r.refund_id for r in self.get_order(cmd.order_id).refunds.values()
                         if r.idempotency_key == cmd.idempotency_key)
        for effect in decision.effects:
            self._perform_refund(order.id, effect, cause)
        return self.get_order(cmd.order_id).refunds[refund_id]

    def approve_refund(self, order_id: str, refund_id: str, *, approved_by: str,
                       cause: Cause | None = None) -> RefundState:
        """Four-eyes: sent to Stripe only now, by a different admin than the one who asked."""
        decision, order = self.runner.decide_and_append(
            "refund_approval", lambda: self.get_order(order_id),
            lambda current: decide_refund_approval(current, refund_id, approved_by=approved_by,
                                                   now=self.clock.now(), cause=cause))
        for effect in decision.effects:
            self._perform_refund(order.id, effect, cause)
        return self.get_order(order_id).refunds[refund_id]

    def reject_refund(self, order_id: str, refund_id: str, *, rejected_by: str, note: str,
                      cause: Cause | None = None) -> RefundState:
        self.runner.decide_and_append(
            "refund_rejection", lambda: self.get_order(order_id),
            lambda current: decide_refund_rejection(current, refund_id, rejected_by=rejected_by,
                                                    note=note, now=self.clock.now(), cause=cause))
        return self.get_order(order_id).refunds[refund_id]

    def apply_refund_snapshot(self, order_id: str, refund_id: str, snap: ports.RefundSnapshot,
                              cause: Cause | None = None) -> None:
        order = self.get_order(order_id)
        self._record_refund_result(order.id, refund_id, snap, cause)

    def record_stripe_refund(self, order_id: str, snap: ports.RefundSnapshot,
                             cause: Cause | None = None) -> str:
        """What Stripe says a refund of this order is: ours gets its outcome; one made outside
        the service (the dashboard) is recorded once, ``source: "stripe"``, no restock."""
        order = self.get_order(order_id)
        known = known_refund(order, snap)
        if known is not None:
            if known.status in ("succeeded", "failed"):
                return "no_change"
            self._record_refund_result(order.id, known.refund_id, snap, cause)
            return "applied"
        decision, _ = self.runner.decide_and_append(
            "stripe_refund", lambda: self.store.get(order.id, fold_order),
            lambda current: decide_stripe_refund(current, snap, now=self.clock.now(), cause=cause))
        return "applied" if decision.events else "no_change"

    def record_dispute(self, order_id: str, notice: ports.PaymentEventNotice,
                       cause: Cause | None = None) -> str:
        order = self.get_order(order_id)
        decision, _ = self.runner.decide_and_append(
            "dispute", lambda: self.store.get(order.id, fold_order),
            lambda current: decide_dispute(current, notice, now=self.clock.now(), cause=cause))
        return "applied" if decision.events else "no_change"

    def resume_refunds(self, order_id: str, cause: Cause | None = None) -> None:
        """Re-send every refund whose Stripe outcome was never recorded, with its key."""
        order = self.get_order(order_id)
        for refund in order.refunds.values():
            if refund.status == "requested":
                self._perform_refund(order.id, refund_effect(order, refund), cause)

    def _perform_refund(self, order_sid: UUID, effect: fx.CreateRefund, cause) -> None:
        result = self.effects.perform(effect, owner_id=effect.order_id)
        self._record_refund_result(order_sid, effect.refund_id, result, cause)

    def _record_refund_result(self, order_sid: UUID, refund_id: str, result, cause) -> None:
        def load():
            order = self.store.get(order_sid, fold_order)
            return order, {line.sku: self.catalog.get_inventory(line.sku) for line in order.items}

        def decide(states) -> Decision:
            order, inventory = states
            return decide_refund_result(order, refund_id, result, inventory,
                                        now=self.clock.now(), cause=cause)

        self.runner.decide_and_append("refund_result", load, decide)
