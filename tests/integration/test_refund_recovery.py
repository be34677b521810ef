"""A refund whose Stripe outcome was lost (a timeout, or the process killed between the call
and its outcome) is resumed by the worker with the same idempotency key: refunded once."""

from __future__ import annotations

import pytest

from adapters.database import parse_database_url
from adapters.read_database import ReadDatabase
from application.due_work import DueWork
from application.worker import Worker
from checkout_saga.commands import CartLine, RefundOrder, StartCheckout
from checkout_saga.ids import step_key
from migrations import migrate
from tests.conftest import system_for
from tests.integration.test_worker_timers import CrashingGateway


@pytest.fixture
def due_work(shop, database_url):
    db = ReadDatabase(parse_database_url(database_url))
    migrate(db)
    yield DueWork(db, shop.store)
    db.close()


def paid_order(shop):
    checkout = shop.checkouts.start_checkout(StartCheckout(
        checkout_session_id="cs_refund_rec_01", currency="usd",
        items=(CartLine(sku="TSHIRT-M", quantity=2),), customer_id="cus_42",
        payment_method="pm_card_visa")).checkout
    assert checkout.status == "completed"
    return checkout.order_id


def refund_cmd(order_id):
    return RefundOrder(order_id=order_id, idempotency_key="refund-key-1", amount=1999,
                       reason="requested_by_customer", restock=None)


def test_a_refund_killed_mid_call_is_resumed_by_the_worker_with_its_key(shop, gateway, clock,
                                                                        due_work):
    order_id = paid_order(shop)
    crashing_process = system_for(shop.store, CrashingGateway(gateway, "create_refund"), clock)
    with pytest.raises(SystemExit):
        crashing_process.orders.refund(refund_cmd(order_id))
    [refund] = shop.orders.get_order(order_id).refunds.values()
    assert refund.status == "requested" and len(gateway.refunds) == 1  # Stripe refunded

    worker = Worker(shop.checkouts, due_work, owner="after-restart", orders=shop.orders,
                    inbox=shop.inbox)
    assert worker.run_once() == 0  # within the grace a live process may still be calling
    assert worker.due_work.rows()[order_id][1] == "refund_recovery"
    clock.advance(seconds=6)
    assert worker.run_once() == 1

    order = shop.orders.get_order(order_id)
    assert order.refunds[refund.refund_id].status == "succeeded"
    assert (order.amount_refunded, order.status) == (1999, "partially_refunded")
    assert len(gateway.refunds) == 1
    keys = [k for k in gateway._idempotency if k.endswith(refund.refund_id)]  # noqa: SLF001
    assert keys == [step_key(order_id, refund.refund_id)]
    assert worker.due_work.rows()[order_id][0] is None


def test_a_refund_whose_reply_timed_out_is_retried_until_stripe_answers(shop, gateway, clock,
                                                                       due_work):
    order_id = paid_order(shop)
    gateway.inject("refund", "error_500", times=2)
    refund = shop.orders.refund(refund_cmd(order_id))
    assert refund.status == "requested"
    worker = Worker(shop.checkouts, due_work, owner="w", orders=shop.orders, inbox=shop.inbox)

    clock.advance(seconds=6)
    worker.run_once()  # Stripe still failing: tried again later, not in a hot loop
    assert shop.orders.get_order(order_id).refunds[refund.refund_id].status == "requested"
    clock.advance(seconds=31)
    worker.run_once()

    order = shop.orders.get_order(order_id)
    assert order.refunds[refund.refund_id].status == "succeeded"
    assert len(gateway.refunds) == 1
