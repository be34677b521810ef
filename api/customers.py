"""/customers/{customer_id}: setup intents and saved payment methods (storefront key).

A method that is not this customer's (another customer's, a removed one, one never seen) is
``404 not_found`` — the answer never tells whose it is."""

from __future__ import annotations

import re
from typing import Annotated

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import FromPath, JSONBody, Parameter

from api import customer_schemas as cs
from api.auth import storefront_guard
from api.context import idempotency_key, request_cause, strict_query, system_of
from api.openapi import BEARER, IdempotencyKey, problems_for
from api.problems import ApiError
from api.schemas import CUSTOMER_ID_PATTERN
from api.views import rfc3339
from api.writes import idempotent_write, strict_body
from application.customer_service import CustomerService
from checkout_saga.customer import CustomerState, SavedMethod


def _customers(request: Request) -> CustomerService:
    return system_of(request).customers


# As a checkout's ``customer.id``: 1-255 characters, no control character. Said in the document
# only (``schema_extra``): ``_valid`` checks it, so that a bad id is one precise error whatever
# the body (litestar's own check would add a spurious one for an absent optional body).
CustomerIdPath = Annotated[str, Parameter(
    schema_extra={"minLength": 1, "maxLength": 255, "pattern": CUSTOMER_ID_PATTERN},
    description="the shop's customer id (as a checkout's customer.id): 1-255 characters, no control character")]


def _valid(customer_id: str) -> str:
    if not 1 <= len(customer_id) <= 255 or not re.match(CUSTOMER_ID_PATTERN, customer_id):
        raise ApiError(422, "validation_error", "the request is not valid", errors=[
            {"field": "customer_id", "message": "must be 1-255 characters, none of them a control character"}])
    return customer_id


def method_out(method: SavedMethod, state: CustomerState) -> cs.PaymentMethodOut:
    return cs.PaymentMethodOut(
        payment_method_id=method.payment_method_id, type="card", brand=method.brand,
        last4=method.last4, exp_month=method.exp_month, exp_year=method.exp_year,
        is_default=state.default_payment_method == method.payment_method_id,
        created_at=rfc3339(method.saved_at) or "")


class CustomerController(Controller):
    path = "/customers/{customer_id:str}"
    tags = ["customers"]
    security = BEARER
    guards = [storefront_guard]

    @post("/setup-intents", status_code=201, responses=problems_for(400, 401, 402, 404, 409, 413, 422, 503))
    async def create_setup_intent(self, request: Request, customer_id: CustomerIdPath,
                                  data: JSONBody[cs.SetupIntentIn | None] = None,
                                  idempotency_key_header: IdempotencyKey = None) -> Response[cs.SetupIntentOut]:
        """An off-session SetupIntent for the customer; when it succeeds the card is saved."""
        await strict_body(request, cs.SetupIntentIn | None)
        customer_id, data = _valid(customer_id), data or cs.SetupIntentIn()
        key = idempotency_key(request)

        def run():
            setup = _customers(request).create_setup_intent(
                customer_id, data.payment_method, request_key=key, cause=request_cause(request))
            return 201, cs.SetupIntentOut(setup_intent_id=setup.id, client_secret=setup.client_secret,
                                          status=setup.status)

        return await idempotent_write(request, f"setup_intent:{customer_id}", run)

    @post("/payment-methods", status_code=201, responses=problems_for(400, 401, 404, 409, 413, 422, 503))
    async def save(self, request: Request, customer_id: CustomerIdPath,
                   data: JSONBody[cs.SavePaymentMethodIn],
                   idempotency_key_header: IdempotencyKey = None) -> Response[cs.PaymentMethodOut]:
        """Save (attach at Stripe) a payment method for the customer."""
        await strict_body(request, cs.SavePaymentMethodIn)
        customer_id, key = _valid(customer_id), idempotency_key(request)

        def run():
            customers = _customers(request)
            method = customers.save_method(customer_id, data.payment_method, request_key=key,
                                           cause=request_cause(request))
            return 201, method_out(method, customers.get(customer_id))

        return await idempotent_write(request, f"save_payment_method:{customer_id}", run)

    @get("/payment-methods", sync_to_thread=True, responses=problems_for(401, 422))
    def list_methods(self, request: Request, customer_id: CustomerIdPath) -> cs.PaymentMethodsOut:
        strict_query(request)
        state, methods = _customers(request).saved_methods(_valid(customer_id))
        return cs.PaymentMethodsOut(items=[method_out(m, state) for m in methods])

    @patch("/payment-methods/{payment_method_id:str}/default", status_code=200,
           responses=problems_for(400, 401, 404, 409, 413, 422, 503))
    async def make_default(self, request: Request, customer_id: CustomerIdPath,
                           payment_method_id: FromPath[str],
                           idempotency_key_header: IdempotencyKey = None) -> Response[cs.PaymentMethodOut]:
        """Make the method the customer's only default."""
        customer_id = _valid(customer_id)

        def run():
            customers = _customers(request)
            method = customers.set_default(customer_id, payment_method_id, request_cause(request))
            return 200, method_out(method, customers.get(customer_id))

        return await idempotent_write(request, f"default_payment_method:{customer_id}:{payment_method_id}", run)

    @delete("/payment-methods/{payment_method_id:str}", status_code=204,
            responses=problems_for(400, 401, 404, 409, 422, 503))
    async def remove(self, request: Request, customer_id: CustomerIdPath, payment_method_id: FromPath[str],
                     idempotency_key_header: IdempotencyKey = None) -> Response[None]:
        """Detach the method at Stripe and forget it; a later checkout naming it is 404."""
        customer_id = _valid(customer_id)

        def run():
            _customers(request).remove(customer_id, payment_method_id, request_cause(request))
            return 204, None

        answer = await idempotent_write(request, f"remove_payment_method:{customer_id}:{payment_method_id}", run)
        return answer if answer.status_code != 204 else Response(content=None, status_code=204)


