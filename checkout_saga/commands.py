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


class Payer(msgspec.Struct, frozen=True, kw_only=True):
    """Who pays a checkout at Stripe and how, when the customer's saved cards are involved
    (resolved from the Customer aggregate before the checkout starts): with the customer on
    the intent, the card is saved (``save_payment_method``) or a saved one is charged
    off-session. ``payment_method`` is the concrete ``pm_`` (``"default"`` resolved)."""

    stripe_customer_id: str
    payment_method: str | None
    off_session: bool = False
    save_payment_method: bool = False


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
    save_payment_method: bool = False
    payer: Payer | None = None  # resolved, not part of the request (nor of its fingerprint)

    def fingerprint(self) -> str:
        """Same body, same fingerprint: how a replayed start is told from a conflicting one.
        Fields added later count only when set, so older checkouts keep their fingerprint."""
        body = msgspec.to_builtins(self)
        body.pop("payer", None)
        for name in _LATER_FIELDS:
            if body.get(name) is None:
                body.pop(name, None)
        if not self.save_payment_method:
            body.pop("save_payment_method", None)
        return hashlib.sha256(msgspec.json.encode(body)).hexdigest()


class RefundOrder(msgspec.Struct, frozen=True, kw_only=True):
    order_id: str
    idempotency_key: str
    amount: int | None = None
    reason: str | None = None
    restock: tuple[CartLine, ...] | None = None
    override_window: bool = False  # v2: refund after the window, explicitly

    def fingerprint(self) -> str:
        # override_window joins the fingerprint only when set, so the fingerprints recorded
        # before it existed still match the same request
        body = msgspec.to_builtins(self)
        if not self.override_window:
            body.pop("override_window")
        return hashlib.sha256(msgspec.json.encode(body)).hexdigest()
