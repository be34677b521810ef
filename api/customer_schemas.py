"""Wire schemas of /customers (CONTRACT §3.9): a saved method is its id and display fields."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from api.schemas import CUSTOMER_ID_PATTERN, PaymentMethodId, Request

#: the shop's customer id, as on a checkout's ``customer.id``
CustomerId = Annotated[str, Meta(min_length=1, max_length=255, pattern=CUSTOMER_ID_PATTERN)]


class SetupIntentIn(Request):
    payment_method: PaymentMethodId | None = None


class SavePaymentMethodIn(Request):
    payment_method: PaymentMethodId


class SetupIntentOut(msgspec.Struct, kw_only=True):
    setup_intent_id: str
    client_secret: str | None
    status: str


class PaymentMethodOut(msgspec.Struct, kw_only=True):
    payment_method_id: str
    type: Literal["card"]
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    is_default: bool
    created_at: str


class PaymentMethodsOut(msgspec.Struct, kw_only=True):
    items: list[PaymentMethodOut]
