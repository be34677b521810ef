"""Commands: what callers (API, webhooks, timers, operators) ask the saga to do."""

from __future__ import annotations

import hashlib

import msgspec

from events.documents import Address

#: Fields added after checkouts were first recorded: left out of the fingerprint while unset,
#: so a replay of a session recorded before them still matches its stored fingerprint.
_LATER_FIELDS = ("shipping_address", "billing_address")


class CartLine(msgspec.Struct, frozen=True, kw_only=True):
    sku: str
    quantity: int


class StartCheckout(msgspec.Struct, frozen=True, kw_only=True):
    checkout_session_id: str
    currency: str | None  # None: the pricing policy's default currency
    items: tuple[CartLine, ...]
    customer_id: str | None = None
    customer_email: str | None = None
    payment_method: str | None = None
    return_url: str | None = None
    shipping_address: Address | None = None
    billing_address: Address | None = None

    def fingerprint(self) -> str:
        """Same body, same fingerprint: how a replayed start is told from a conflicting one."""
        body = msgspec.to_builtins(self)
        for name in _LATER_FIELDS:
            if body.get(name) is None:
                body.pop(name, None)
        return hashlib.sha256(msgspec.json.encode(body)).hexdigest()


class RefundOrder(msgspec.Struct, frozen=True, kw_only=True):
    order_id: str
    idempotency_key: str
    amount: int | None = None
    reason: str | None = None
    restock: tuple[CartLine, ...] | None = None

    def fingerprint(self) -> str:
        return hashlib.sha256(msgspec.json.encode(self)).hexdigest()
