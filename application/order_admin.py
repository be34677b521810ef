"""Admin commands on an order: move its fulfilment forward, cancel it while unpaid (through
its checkout's own cancel, so the whole saga is compensated), and read its documents."""

from __future__ import annotations

from application.checkout_service import CheckoutService
from application.command_runner import CommandRunner
from application.order_service import OrderService
from checkout_saga import errors
from checkout_saga.fulfillment import decide_fulfillment
from checkout_saga.order import CreditNoteState, InvoiceState, OrderState
from events.base import Cause


class OrderAdmin:
    def __init__(self, runner: CommandRunner, orders: OrderService,
                 checkouts: CheckoutService) -> None:
        self.runner = runner
        self.clock = runner.clock
        self.orders = orders
        self.checkouts = checkouts

    def move_fulfillment(self, order_id: str, *, status: str, carrier: str | None = None,
                         tracking_number: str | None = None,
                         cause: Cause | None = None) -> OrderState:
        self.runner.decide_and_append(
            "fulfillment", lambda: self.orders.get_order(order_id),
            lambda order: decide_fulfillment(order, status=status, carrier=carrier,
                                             tracking_number=tracking_number,
                                             now=self.clock.now(), cause=cause))
        return self.orders.get_order(order_id)

    def cancel_order(self, order_id: str, reason: str = "cancelled by an operator",
                     cause: Cause | None = None) -> OrderState:
        """Cancel an unpaid order by cancelling its checkout (stock released, payment intent
        cancelled, order cancelled); a paid one is refused with ``order_paid``."""
        order = self.orders.get_order(order_id)
        if order.was_paid:
            raise errors.OrderPaidError("the order is paid: refund it instead",
                                        order_id=order.order_id)
        if order.status == "cancelled":
            return order
        try:
            self.checkouts.cancel(order.checkout_id, reason, cause)
        except errors.CheckoutNotCancellableError:
            checkout = self.checkouts.get(order.checkout_id)
            if checkout.payment_status == "succeeded" or checkout.stock == "committed":
                raise errors.OrderPaidError("the order is paid or its payment is being captured: "
                                            "refund it instead", order_id=order.order_id) from None
            raise
        return self.orders.get_order(order_id)

    def invoice(self, order_id: str) -> tuple[OrderState, InvoiceState]:
        order = self.orders.get_order(order_id)
        if order.invoice is None:
            raise errors.NotFoundError(f"order {order_id} has no invoice (it is {order.status})",
                                       order_id=order_id)
        return order, order.invoice

    def credit_note(self, order_id: str, number: str) -> tuple[OrderState, CreditNoteState]:
        order, _ = self.invoice(order_id)
        for note in order.credit_notes.values():
            if note.credit_note_number == number:
                return order, note
        raise errors.NotFoundError(f"order {order_id} has no credit note {number}",
                                   order_id=order_id)
