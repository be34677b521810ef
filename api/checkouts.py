"""/checkouts: start, confirm, cancel, read, history."""

from __future__ import annotations

from litestar import Controller, Request, Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody, Parameter

from api import schemas as s
from api import views as v
from api.auth import storefront_guard
from api.context import checkouts_of, request_cause, strict_query, system_of
from api.openapi import BEARER, IdempotencyKey, problems_for
from api.writes import idempotent_write, strict_body
from application.saved_card_checkouts import start_checkout
from checkout_saga.commands import CartLine, StartCheckout
from events import codec
from events.documents import Address

MAX_VERSION = 2**31 - 1


def address_of(data: s.AddressIn | None) -> Address | None:
    if data is None:
        return None
    return Address(name=data.name, line1=data.line1, line2=data.line2, city=data.city,
                   state=data.state, postal_code=data.postal_code, country=data.country)


def _start_command(data: s.StartCheckoutIn) -> StartCheckout:
    customer = data.customer or s.CustomerIn()
    return StartCheckout(
        checkout_session_id=data.checkout_session_id, currency=data.currency,
        items=tuple(CartLine(sku=line.sku, quantity=line.quantity) for line in data.items),
        customer_id=customer.id, customer_email=customer.email,
        payment_method=data.payment_method, return_url=data.return_url,
        shipping_address=address_of(data.shipping_address),
        billing_address=address_of(data.billing_address),
        save_payment_method=data.save_payment_method)


class CheckoutController(Controller):
    path = "/checkouts"
    tags = ["checkouts"]
    security = BEARER
    guards = [storefront_guard]

    @post("/", status_code=201, responses={
        200: ResponseSpec(s.CheckoutOut, description="the session's checkout, started before with the same body"),
        **problems_for(400, 401, 402, 409, 413, 422, 503)})
    async def start(self, request: Request, data: JSONBody[s.StartCheckoutIn]) -> Response[s.CheckoutOut]:
        """Start a checkout; the session id is the idempotency key."""
        from anyio import to_thread

        await strict_body(request, s.StartCheckoutIn)
        system = system_of(request)
        result = await to_thread.run_sync(lambda: start_checkout(
            system.checkouts, system.customers, _start_command(data), request_cause(request)))
        return Response(v.checkout_out(result.checkout), status_code=201 if result.created else 200)

    @get("/{checkout_id:str}", sync_to_thread=True, responses=problems_for(401, 404, 422))
    def read(self, request: Request, checkout_id: FromPath[str],
             at_version: int | None = Parameter(default=None, ge=1, le=MAX_VERSION)) -> s.CheckoutOut:
        strict_query(request, "at_version")
        return v.checkout_out(checkouts_of(request).get(checkout_id, at_version=at_version))

    @get("/{checkout_id:str}/events", sync_to_thread=True, responses=problems_for(401, 404))
    def events(self, request: Request, checkout_id: FromPath[str]) -> s.CheckoutEventsOut:
        history = checkouts_of(request).history(checkout_id)
        return s.CheckoutEventsOut(events=[
            s.CheckoutEventOut(version=e.originator_version, type=type(e).__name__,
                               occurred_at=v.rfc3339(e.occurred_at), data=codec.to_jsonable(e))
            for e in history])

    @post("/{checkout_id:str}/confirm", status_code=200,
          responses=problems_for(400, 401, 402, 404, 409, 413, 422, 503))
    async def confirm(self, request: Request, checkout_id: FromPath[str],
                      data: JSONBody[s.ConfirmIn | None] = None,
                      idempotency_key_header: IdempotencyKey = None) -> Response[s.CheckoutOut]:
        await strict_body(request, s.ConfirmIn | None)
        data = data or s.ConfirmIn()
        return await idempotent_write(request, f"confirm:{checkout_id}", lambda: (200, v.checkout_out(
            checkouts_of(request).confirm_payment(checkout_id, data.payment_method, data.return_url,
                                                request_cause(request)))))

    @post("/{checkout_id:str}/cancel", status_code=200,
          responses=problems_for(400, 401, 404, 409, 413, 422))
    async def cancel(self, request: Request, checkout_id: FromPath[str],
                     data: JSONBody[s.CancelIn | None] = None,
                     idempotency_key_header: IdempotencyKey = None) -> Response[s.CheckoutOut]:
        await strict_body(request, s.CancelIn | None)
        reason = (data.reason if data else None) or "cancelled by the customer"
        return await idempotent_write(request, f"cancel:{checkout_id}", lambda: (200, v.checkout_out(
            checkouts_of(request).cancel(checkout_id, reason, request_cause(request)))))
