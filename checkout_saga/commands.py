"""Commands: what callers (API, webhooks, timers, operators) ask the saga to do."""

from __future__ import annotations

import hashlib

import msgspec


class CartLine(msgspec.Struct, frozen=True, kw_only=True):
    sku: str
    quantity: int


class StartCheckout(msgspec.Struct, frozen=True, kw_only=True):
    checkout_session_id: str
    currency: str
    items: tuple[CartLine, ...]
    customer_id: str | None = None
    customer_email: str | None = None
    payment_method: str | None = None
    return_url: str | None = None

    def fingerprint(self) -> str:
        """Same body, same fingerprint: how a replayed start is told from a conflicting one."""
        return hashlib.sha256(msgspec.json.encode(self)).hexdigest()


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
