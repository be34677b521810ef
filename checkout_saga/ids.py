"""Identities. Stream ids are uuid5 of a business key, so one checkout session can never
make two checkouts, one checkout never two orders, one SKU never two inventory streams."""

from __future__ import annotations

import re
from uuid import UUID, uuid5

NAMESPACE = UUID("6f1c1e9a-9a43-4c5e-8b0a-3c2f6a1d7e55")

CHECKOUT_PREFIX = "chk_"
ORDER_PREFIX = "ord_"
REFUND_PREFIX = "rf_"

_HEX32 = re.compile(r"[0-9a-f]{32}")


def checkout_stream(checkout_session_id: str) -> UUID:
    return uuid5(NAMESPACE, f"checkout:{checkout_session_id}")


def checkout_id_of(stream_id: UUID) -> str:
    return f"{CHECKOUT_PREFIX}{stream_id.hex}"


def order_stream(checkout_stream_id: UUID) -> UUID:
    return uuid5(NAMESPACE, f"order:{checkout_stream_id.hex}")


def order_id_of(stream_id: UUID) -> str:
    return f"{ORDER_PREFIX}{stream_id.hex}"


def order_number_for(order_stream_id: UUID, year: int) -> str:
    return f"ORD-{year}-{order_stream_id.hex[:10].upper()}"


def inventory_stream(sku: str) -> UUID:
    return uuid5(NAMESPACE, f"inventory:{sku}")


def product_stream(sku: str) -> UUID:
    return uuid5(NAMESPACE, f"product:{sku}")


def seller_stream(seller_id: str) -> UUID:
    return uuid5(NAMESPACE, f"seller:{seller_id}")


def refund_id_for(order_stream_id: UUID, idempotency_key: str) -> str:
    return f"{REFUND_PREFIX}{uuid5(NAMESPACE, f'refund:{order_stream_id.hex}:{idempotency_key}').hex}"


def stripe_event_stream(event_id: str) -> UUID:
    return uuid5(NAMESPACE, f"stripe-event:{event_id}")


def parse_prefixed(value: str, prefix: str) -> UUID | None:
    """The stream id behind ``chk_…``/``ord_…``, or None when the text is not one."""
    if not value.startswith(prefix):
        return None
    rest = value[len(prefix) :]
    if not _HEX32.fullmatch(rest):
        return None
    return UUID(hex=rest)


def step_key(owner_id: str, step: str) -> str:
    """The idempotency key of one external call: the checkout (or order) and the step. The
    same key is recorded in the intention event and sent to Stripe on every retry."""
    return f"{owner_id}:{step}"
