"""Wire schemas: msgspec structs for request bodies (unknown fields rejected) and responses.
These are not events; they may change with the API."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from checkout_saga.addresses import COUNTRIES

SessionId = Annotated[str, Meta(min_length=8, max_length=128, pattern=r"\A[A-Za-z0-9_-]+\Z")]
Currency = Annotated[str, Meta(pattern=r"\A[a-z]{3}\Z")]
Sku = Annotated[str, Meta(min_length=1, max_length=128)]
Quantity = Annotated[int, Meta(ge=1, le=1000)]
Money = Annotated[int, Meta(ge=0, le=99_999_999_999)]
ShortText = Annotated[str, Meta(min_length=1, max_length=255)]
Note = Annotated[str, Meta(min_length=1, max_length=2000)]
# not blank: at least one character other than white space
AddressText = Annotated[str, Meta(min_length=1, max_length=200, pattern=r"\S")]
NonBlank = Annotated[str, Meta(min_length=1, max_length=255, pattern=r"\S")]
CountryCode = Annotated[Literal[tuple(sorted(COUNTRIES))],  # type: ignore[valid-type]
                        Meta(description="ISO 3166-1 alpha-2 country code, upper-case")]
Email = Annotated[str, Meta(max_length=320)]
# The shop's customer id: at most 255 characters, none of them a control character (it goes to
# Stripe in metadata and idempotency-key headers, where a control character is not a request).
CUSTOMER_ID_PATTERN = r"\A[^\x00-\x1f\x7f-\x9f]+\Z"
# A Stripe PaymentMethod id, or one of the documented test tokens (``pm_card_visa``).
PAYMENT_METHOD_ID_PATTERN = r"\Apm_[A-Za-z0-9_]+\Z"
PaymentMethodId = Annotated[str, Meta(min_length=4, max_length=255, pattern=PAYMENT_METHOD_ID_PATTERN)]


class Request(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Base of every request body."""


# --- requests ------------------------------------------------------------------------------


class CustomerIn(Request):
    id: Annotated[str, Meta(min_length=1, max_length=255, pattern=CUSTOMER_ID_PATTERN)] | None = None
    email: Annotated[str, Meta(max_length=320)] | None = None


class CartLineIn(Request):
    sku: Sku
    quantity: Quantity


class AddressIn(Request, kw_only=True):
    name: AddressText
    line1: AddressText
    line2: AddressText | None = None
    city: AddressText
    state: AddressText | None = None
    postal_code: Annotated[str, Meta(min_length=1, max_length=32, pattern=r"\S")]
    country: CountryCode


class StartCheckoutIn(Request):
    checkout_session_id: SessionId
    items: Annotated[list[CartLineIn], Meta(min_length=1, max_length=100,
                                            description="1-100 lines with distinct SKUs")]
    currency: Currency | None = None  # default: CHECKOUT_SAGA_DEFAULT_CURRENCY
    customer: CustomerIn | None = None
    payment_method: ShortText | None = None
    return_url: Annotated[str, Meta(max_length=2048)] | None = None
    shipping_address: AddressIn | None = None
    billing_address: AddressIn | None = None
    save_payment_method: bool = False


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
    """PUT replaces the seller: an optional field left out is cleared."""

    charges_enabled: bool
    name: ShortText | None = None
    address: AddressIn | None = None
    tax_id: Annotated[str, Meta(min_length=1, max_length=64)] | None = None
    email: Email | None = None


class FulfillmentIn(Request):
    status: Literal["processing", "shipped", "delivered"]
    carrier: NonBlank | None = None
    tracking_number: NonBlank | None = None  # required for shipped


class CancelOrderIn(Request):
    reason: Annotated[str, Meta(max_length=500)] | None = None


class ResolveIn(Request):
    note: Note


class RetryIn(Request):
    note: Annotated[str, Meta(max_length=2000)] | None = None


# --- responses -----------------------------------------------------------------------------


class Response(msgspec.Struct, kw_only=True):
    """Base of every response body."""


class AddressOut(Response, kw_only=True):
    name: str
    line1: str
    line2: str | None
    city: str
    state: str | None
    postal_code: str
    country: str


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
    shipping_address: AddressOut | None = None
    billing_address: AddressOut | None = None


class CheckoutEventOut(Response):
    version: int
    type: str
    occurred_at: str
    data: dict


class CheckoutEventsOut(Response):
    events: list[CheckoutEventOut]


class CheckoutListOut(Response):
    items: list[CheckoutOut]


class DisputeOut(Response):
    status: str  # needs_response | under_review | won | lost
    reason: str | None
    amount: int
    opened_at: str | None
    closed_at: str | None
class FulfillmentOut(Response):
    status: Literal["unfulfilled", "processing", "shipped", "delivered"]
    carrier: str | None
    tracking_number: str | None
    shipped_at: str | None
    delivered_at: str | None


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
    dispute: DisputeOut | None = None
    amount_subtotal: int = 0
    amount_tax: int = 0
    amount_shipping: int = 0
    shipping_address: AddressOut | None = None
    billing_address: AddressOut | None = None
    invoice_number: str | None = None
    fulfillment: FulfillmentOut | None = None


class SellerPartyOut(Response):
    seller_id: str
    name: str | None
    address: AddressOut | None
    tax_id: str | None
    email: str | None


class BuyerOut(Response):
    customer_id: str | None
    email: str | None
    name: str | None
    address: AddressOut | None


class InvoiceLineOut(Response):
    sku: str
    name: str
    quantity: int
    unit_amount: int
    amount: int


class CreditNoteOut(Response):
    credit_note_number: str
    refund_id: str
    amount: int
    issued_at: str


class InvoiceOut(Response):
    invoice_number: str
    order_id: str
    order_number: str
    issued_at: str
    seller: SellerPartyOut
    buyer: BuyerOut
    lines: list[InvoiceLineOut]
    currency: str
    amount_subtotal: int
    amount_tax: int
    amount_shipping: int
    amount_total: int
    tax_rate: str | None
    credit_notes: list[CreditNoteOut]


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
    # v2: where it was made, and the refund controls
    source: str = "api"  # api | stripe (made outside this service, e.g. Stripe's dashboard)
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
    name: str | None = None
    address: AddressOut | None = None
    tax_id: str | None = None
    email: str | None = None


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
