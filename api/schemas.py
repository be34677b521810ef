"""Wire schemas: msgspec structs for request bodies (unknown fields rejected) and responses.
These are not events; they may change with the API."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

SessionId = Annotated[str, Meta(min_length=8, max_length=128, pattern=r"\A[A-Za-z0-9_-]+\Z")]
Currency = Annotated[str, Meta(pattern=r"\A[a-z]{3}\Z")]
Sku = Annotated[str, Meta(min_length=1, max_length=128)]
Quantity = Annotated[int, Meta(ge=1, le=1000)]
Money = Annotated[int, Meta(ge=0, le=99_999_999_999)]
ShortText = Annotated[str, Meta(min_length=1, max_length=255)]
Note = Annotated[str, Meta(min_length=1, max_length=2000)]


class Request(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Base of every request body."""


# --- requests ------------------------------------------------------------------------------


class CustomerIn(Request):
    id: Annotated[str, Meta(max_length=255)] | None = None
    email: Annotated[str, Meta(max_length=320)] | None = None


class CartLineIn(Request):
    sku: Sku
    quantity: Quantity


class StartCheckoutIn(Request):
    checkout_session_id: SessionId
    currency: Currency
    items: Annotated[list[CartLineIn], Meta(min_length=1, max_length=100,
                                            description="1-100 lines with distinct SKUs")]
    customer: CustomerIn | None = None
    payment_method: ShortText | None = None
    return_url: Annotated[str, Meta(max_length=2048)] | None = None


class ConfirmIn(Request):
    payment_method: ShortText | None = None
    return_url: Annotated[str, Meta(max_length=2048)] | None = None


class CancelIn(Request):
    reason: Annotated[str, Meta(max_length=500)] | None = None


class RestockLineIn(Request):
    sku: Sku
    quantity: Quantity


class RefundIn(Request):
    amount: Annotated[int, Meta(ge=1, le=99_999_999_999)] | None = None
    reason: Literal["requested_by_customer", "duplicate", "fraudulent"] | None = None
    restock: Annotated[list[RestockLineIn], Meta(max_length=100)] | None = None
    override_window: bool = False  # v2: refund after the refund window (recorded)


class AdjustmentIn(Request):
    delta: Annotated[int, Meta(ge=-1_000_000, le=1_000_000,
                               extra_json_schema={"extra": {"not": {"const": 0}}})]
    reason: ShortText


class ProductIn(Request):
    name: Annotated[str, Meta(min_length=1, max_length=500)]
    unit_amount: Money
    currency: Currency
    seller_id: ShortText
    active: bool = True


class SellerIn(Request):
    charges_enabled: bool


class ResolveIn(Request):
    note: Note


class RetryIn(Request):
    note: Annotated[str, Meta(max_length=2000)] | None = None


# --- responses -----------------------------------------------------------------------------


class Response(msgspec.Struct, kw_only=True):
    """Base of every response body."""


class CustomerOut(Response):
    id: str | None
    email: str | None


class LineOut(Response):
    sku: str
    quantity: int
    unit_amount: int


class OrderRef(Response):
    order_id: str
    order_number: str | None


class NextAction(Response):
    type: str
    redirect_url: str


class PaymentErrorOut(Response):
    code: str
    decline_code: str | None
    message: str | None


class PaymentOut(Response):
    payment_intent_id: str | None
    client_secret: str | None
    status: str | None
    next_action: NextAction | None
    last_error: PaymentErrorOut | None


class FailureOut(Response):
    code: str
    message: str


class CheckoutOut(Response):
    checkout_id: str
    checkout_session_id: str
    status: str
    customer: CustomerOut
    currency: str
    amount_subtotal: int
    amount_tax: int
    amount_shipping: int
    amount_total: int
    items: list[LineOut]
    order: OrderRef | None
    payment: PaymentOut | None
    failure: FailureOut | None
    expires_at: str
    created_at: str
    updated_at: str
    version: int


class CheckoutEventOut(Response):
    version: int
    type: str
    occurred_at: str
    data: dict


class CheckoutEventsOut(Response):
    events: list[CheckoutEventOut]


class CheckoutListOut(Response):
    items: list[CheckoutOut]


class OrderOut(Response):
    order_id: str
    order_number: str
    checkout_id: str
    customer_id: str | None
    status: str
    currency: str
    amount_total: int
    amount_refunded: int
    items: list[LineOut]
    created_at: str
    paid_at: str | None


class OrderListOut(Response):
    items: list[dict]
    next_cursor: str | None


class RefundOut(Response):
    refund_id: str
    order_id: str
    amount: int
    status: str
    reason: str | None
    created_at: str
    # v2 refund controls
    source: str = "api"
    requested_by: str | None = None
    approved_by: str | None = None
    override_window: bool = False
    rejection_note: str | None = None


class RefundListOut(Response):
    items: list[RefundOut]


class InventoryOut(Response):
    sku: str
    on_hand: int
    reserved: int
    available: int
    sold: int


class ProductOut(Response):
    sku: str
    name: str
    unit_amount: int
    currency: str
    seller_id: str
    active: bool
    created_at: str
    updated_at: str


class SellerOut(Response):
    seller_id: str
    charges_enabled: bool
    updated_at: str


class WebhookAck(Response):
    received: bool
    duplicate: bool


class ReconciliationOut(Response):
    report: dict | None
    detail: str | None = None


class HealthOut(Response):
    status: str


class ProblemOut(Response):
    """RFC 9457 problem details (served as application/problem+json)."""

    type: str
    title: str
    status: int
    detail: str
    code: str
