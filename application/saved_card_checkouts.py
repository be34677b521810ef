"""Starting a checkout that involves the customer's saved cards (CONTRACT §3.1 v2, §3.9):
``save_payment_method: true`` attaches the Stripe Customer to the intent with
``setup_future_usage=off_session`` (Stripe keeps the card once it is authorised, and the
saved list is read back when the checkout completes); ``payment_method: "default"`` or a
method the customer saved is charged off-session. Who pays is resolved before the saga
starts and recorded in its first event, so a recovery re-runs the same Stripe call."""

from __future__ import annotations

import msgspec
import structlog

from application.checkout_service import CheckoutService, StartResult
from application.customer_service import CustomerService
from checkout_saga import errors
from checkout_saga.checkout import fold_checkout
from checkout_saga.commands import StartCheckout
from checkout_saga.ids import checkout_stream
from events.base import Cause

log = structlog.get_logger(__name__)


def start_checkout(checkouts: CheckoutService, customers: CustomerService, cmd: StartCheckout,
                   cause: Cause | None = None) -> StartResult:
    if checkouts.store.get(checkout_stream(cmd.checkout_session_id), fold_checkout) is None:
        payer = customers.payer_for_checkout(cmd.customer_id, cmd.payment_method,
                                             save=cmd.save_payment_method, cause=cause)
        if payer is not None:
            cmd = msgspec.structs.replace(cmd, payer=payer)
    # a replay of a started checkout needs no payer: its first event has it
    result = checkouts.start_checkout(cmd, cause)
    state = result.checkout
    if state.save_payment_method and state.status == "completed" and state.customer_id:
        _read_back_saved_cards(customers, state.customer_id, cause)
    return result


def _read_back_saved_cards(customers: CustomerService, customer_id: str, cause: Cause | None) -> None:
    """The paid card is saved at Stripe by now; record it (the webhook would too, later)."""
    try:
        customers.sync(customer_id, cause)
    except errors.DomainError as exc:  # the payment stands; payment_method.attached will follow
        log.warning("saved_card_not_read_back", customer_id=customer_id, error=exc.code)
