"""Order commands: refunds (validated, idempotent by key, tracked one by one)."""

from __future__ import annotations

import time
from uuid import UUID

from checkout_saga import effects as fx
from checkout_saga import errors, ports
from checkout_saga.commands import RefundOrder
from checkout_saga.ids import ORDER_PREFIX, inventory_stream, parse_prefixed
from checkout_saga.inventory import fold_inventory
from checkout_saga.order import OrderState, RefundState, fold_order
from checkout_saga.refunds import decide_refund, decide_refund_result, refund_effect
from checkout_saga.shell import Shell
from checkout_saga.writer import Decision
from events.base import Cause


class OrderCommands(Shell):
    def get_order(self, order_id: str) -> OrderState:
        sid = parse_prefixed(order_id, ORDER_PREFIX)
        state = self.store.get(sid, fold_order) if sid else None
        if state is None:
            raise errors.NotFoundError(f"no order {order_id}", order_id=order_id)
        return state

    def refund(self, cmd: RefundOrder, cause: Cause | None = None) -> RefundState:
        order = self.get_order(cmd.order_id)
        decision = self._decide_and_append("refund", lambda: decide_refund(
            self.get_order(cmd.order_id), cmd, now=self.clock.now(), cause=cause))
        refund_id = next(r.refund_id for r in self.get_order(cmd.order_id).refunds.values()
                         if r.idempotency_key == cmd.idempotency_key)
        for effect in decision.effects:
            self._perform_refund(order.id, effect, cause)
        return self.get_order(cmd.order_id).refunds[refund_id]

    def apply_refund_snapshot(self, order_id: str, refund_id: str, snap: ports.RefundSnapshot,
                              cause: Cause | None = None) -> None:
        order = self.get_order(order_id)
        self._decide_and_append("refund_result", lambda: self._refund_result(
            order.id, refund_id, snap, cause))

    def resume_refunds(self, order_id: str, cause: Cause | None = None) -> None:
        order = self.get_order(order_id)
        for refund in order.refunds.values():
            if refund.status == "requested":
                self._perform_refund(order.id, refund_effect(order, refund), cause)

    def _perform_refund(self, order_sid: UUID, effect: fx.CreateRefund, cause) -> None:
        started = time.perf_counter()
        try:
            result: ports.RefundSnapshot | Exception = self.gateway.create_refund(
                payment_intent_id=effect.payment_intent_id, amount=effect.amount,
                refund_key=effect.refund_id, idempotency_key=effect.idempotency_key,
                reason=effect.reason)
        except ports.PaymentGatewayError as exc:
            result = exc
        self.observer.step_finished(checkout_id=effect.order_id, step="refund",
                                    idempotency_key=effect.idempotency_key,
                                    outcome=getattr(result, "status", type(result).__name__),
                                    seconds=time.perf_counter() - started)
        self._decide_and_append("refund_result", lambda: self._refund_result(
            order_sid, effect.refund_id, result, cause))

    def _refund_result(self, order_sid: UUID, refund_id: str, result, cause) -> Decision:
        order = self.store.get(order_sid, fold_order)
        skus = [line.sku for line in order.items]
        inventory = {sku: self.store.get(inventory_stream(sku), fold_inventory) for sku in skus}
        return decide_refund_result(order, refund_id, result, inventory, now=self.clock.now(),
                                    cause=cause)
