"""Balance transactions: how each movement of money shows on the account's balance.

A captured charge adds its amount less Stripe's processing fee; the emulator charges
2.9 % (rounded half up to a minor unit) + 30. A refund takes its amount back (the fee
is not returned), a failed refund puts it back again, and a dispute withdraws the
disputed amount (reinstated if the dispute is won). The emulator charges no dispute fee.
"""

from __future__ import annotations

from typing import Any

from stripe_emulator.ids import new_id
from stripe_emulator.state import Store

Json = dict[str, Any]


def processing_fee(amount: int) -> int:
    """round(2.9 % x amount) + 30, in minor units, half up."""
    return (amount * 29 + 500) // 1000 + 30


def charge_transaction(store: Store, charge: Json, amount: int) -> str:
    """The balance transaction of a capture of `amount` on `charge`: its id."""
    fee = processing_fee(amount)
    return _add(store, charge, amount, fee, "charge", "charge", charge["description"])["id"]


def refund_transaction(store: Store, refund: Json) -> str:
    return _add(store, refund, -refund["amount"], 0, "refund", "refund", "REFUND FOR CHARGE")["id"]


def refund_failure_transaction(store: Store, refund: Json) -> str:
    return _add(
        store,
        refund,
        refund["amount"],
        0,
        "refund_failure",
        "refund_failure",
        "REFUND FAILURE",
    )["id"]


def dispute_transaction(store: Store, dispute: Json, *, reinstated: bool) -> Json:
    """The adjustment a dispute makes; the Dispute lists the whole objects."""
    if reinstated:
        amount, category, text = dispute["amount"], "dispute_reversal", "Chargeback reversal"
    else:
        amount, category, text = -dispute["amount"], "dispute", "Chargeback withdrawal"
    return _add(
        store, dispute, amount, 0, "adjustment", category, f"{text} for {dispute['charge']}"
    )


def _add(
    store: Store,
    source: Json,
    amount: int,
    fee: int,
    type_: str,
    category: str,
    description: str | None,
) -> Json:
    now = store.now()
    fee_details = [
        {
            "amount": fee,
            "application": None,
            "currency": source["currency"],
            "description": "Stripe processing fees",
            "type": "stripe_fee",
        }
    ]
    return store.add(
        {
            "id": new_id("txn"),
            "object": "balance_transaction",
            "amount": amount,
            "available_on": now,
            "created": now,
            "currency": source["currency"],
            "description": description,
            "exchange_rate": None,
            "fee": fee,
            "fee_details": fee_details if fee else [],
            "net": amount - fee,
            "reporting_category": category,
            "source": source["id"],
            "status": "available",
            "type": type_,
        }
    )
