"""OpenAPI declarations: the problem+json error responses, and strict request schemas."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Annotated, Any

from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.openapi import OpenAPIConfig
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    Components,
    Link,
    OpenAPI,
    OpenAPIMediaType,
    OpenAPIResponse,
    Operation,
    RequestBody,
    Schema,
    SecurityScheme,
)
from litestar.openapi.spec.enums import OpenAPIType
from litestar.params import HeaderParameter

from api.problems import TITLES
from api.schemas import ProblemOut, Request

_KEY = dict(name="Idempotency-Key", min_length=1, max_length=255, pattern=r"^[ -~]+$")

# Declared on every write that honours it (the handlers read it through idempotent_write):
# the same key and body replay the first response; the same key with another body is a 409.
IdempotencyKey = Annotated[str | None, HeaderParameter(
    **_KEY, required=False,
    description="1-255 printable ASCII; replays the first response for the same key and body")]
RequiredIdempotencyKey = Annotated[str, HeaderParameter(
    **_KEY, description="required: 1-255 printable ASCII; missing is 400 idempotency_key_required")]

# Storefront and admin keys are both bearer tokens; which routes need an admin key is in
# each operation's 403 response.
BEARER = [{"BearerKey": []}]
COMPONENTS = Components(security_schemes={"BearerKey": SecurityScheme(
    type="http", scheme="bearer",
    description="Authorization: Bearer <key>: storefront keys for checkouts, orders (read) and "
                "inventory (read); admin keys for everything. Missing or wrong: 401.")})


def problems_for(*statuses: int) -> dict[int, ResponseSpec]:
    return {status: ResponseSpec(data_container=ProblemOut, media_type="application/problem+json",
                                 description=TITLES.get(status, "Error"))
            for status in statuses}


class StrictRequestSchemaPlugin(StructSchemaPlugin):
    """Request bodies reject unknown fields (``forbid_unknown_fields``); say so in the document
    with ``additionalProperties: false``, which litestar's own struct plugin leaves out.

    Patterns are written ``\\A…\\Z`` for msgspec (which searches, and whose ``$`` would accept
    a trailing newline); the document says the same in ECMA-262, where ``^…$`` is exact."""

    def is_plugin_supported_field(self, field_definition) -> bool:
        return not field_definition.is_union and field_definition.is_subclass_of(Request)

    def to_openapi_schema(self, field_definition, schema_creator):
        schema = super().to_openapi_schema(field_definition, schema_creator)
        schema.additional_properties = False
        _ecma_patterns(schema)
        return schema


def _ecma_patterns(schema) -> None:
    if not isinstance(schema, Schema):
        return
    pattern = schema.pattern
    if pattern and pattern.startswith("\\A") and pattern.endswith("\\Z"):
        schema.pattern = f"^{pattern[2:-2]}$"
    nested = [*(schema.properties or {}).values(), *(schema.any_of or ()), *(schema.one_of or ()),
              *(schema.all_of or ())]
    if isinstance(schema.items, Schema):
        nested.append(schema.items)
    for child in nested:
        _ecma_patterns(child)


@dataclass
class StripeEventOperation(Operation):
    """POST /webhooks/stripe reads its raw body (the signature covers the exact bytes), so
    litestar cannot infer the request body; declare Stripe's event object here."""

    def __post_init__(self) -> None:
        text = Schema(type=OpenAPIType.STRING, min_length=1)
        event = Schema(
            type=OpenAPIType.OBJECT, required=["id", "type", "created", "data"],
            description="a Stripe event, signed by Stripe-Signature",
            properties={"id": text, "type": text,
                        "object": Schema(type=OpenAPIType.STRING, enum=["event"]),
                        "created": Schema(type=OpenAPIType.INTEGER, minimum=0),
                        "livemode": Schema(type=OpenAPIType.BOOLEAN),
                        "data": Schema(type=OpenAPIType.OBJECT, required=["object"],
                                       properties={"object": Schema(type=OpenAPIType.OBJECT)})})
        self.request_body = RequestBody(
            content={"application/json": OpenAPIMediaType(schema=event)}, required=True,
            description="Stripe's event, as sent (the signature covers these bytes)")


# Stripe's header: ``t=<unix seconds>`` and one or more ``v1=<hex HMAC-SHA256>`` (the SDK's
# verifier reads no other shape; anything else is 400 invalid_signature).
STRIPE_SIGNATURE_PATTERN = r"^t=[0-9]{1,12}(,[a-z0-9]+=[0-9a-f]+)*,v1=[0-9a-f]{64}(,[a-z0-9]+=[0-9a-f]+)*$"


# --- links: how a response leads to the next operation ---------------------------------------
#
# (method, path, status) of a response → {link name: (method, path) of the target, its
# parameters as runtime expressions, an optional request body}. They let a client (and
# schemathesis' stateful phase) go from a created checkout to its reads and writes, from an
# order to its refunds, from a product to its stock, instead of guessing identifiers.

_CHECKOUT_ID = {"checkout_id": "$response.body#/checkout_id"}
_ORDER_OF_CHECKOUT = {"order_id": "$response.body#/order/order_id"}
_ORDER_ID = {"order_id": "$response.body#/order_id"}
_SKU = {"sku": "$response.body#/sku"}
_BUY_ONE = {"items": [{"sku": "$response.body#/sku", "quantity": 1}]}

_FROM_A_CHECKOUT: dict[str, tuple[str, str, dict[str, str], Any]] = {
    "read": ("GET", "/checkouts/{checkout_id}", _CHECKOUT_ID, None),
    "events": ("GET", "/checkouts/{checkout_id}/events", _CHECKOUT_ID, None),
    "confirm": ("POST", "/checkouts/{checkout_id}/confirm", _CHECKOUT_ID, None),
    "cancel": ("POST", "/checkouts/{checkout_id}/cancel", _CHECKOUT_ID, None),
    "retry": ("POST", "/ops/checkouts/{checkout_id}/retry", _CHECKOUT_ID, None),
    "resolve": ("POST", "/ops/checkouts/{checkout_id}/resolve", _CHECKOUT_ID, None),
    "order": ("GET", "/orders/{order_id}", _ORDER_OF_CHECKOUT, None),
    "order_refunds": ("GET", "/orders/{order_id}/refunds", _ORDER_OF_CHECKOUT, None),
    "refund": ("POST", "/orders/{order_id}/refunds", _ORDER_OF_CHECKOUT, None),
}
_FROM_AN_ORDER = {
    "read": ("GET", "/orders/{order_id}", _ORDER_ID, None),
    "refunds": ("GET", "/orders/{order_id}/refunds", _ORDER_ID, None),
    "refund": ("POST", "/orders/{order_id}/refunds", _ORDER_ID, None),
}
_FROM_A_SKU = {
    "product": ("GET", "/products/{sku}", _SKU, None),
    "inventory": ("GET", "/inventory/{sku}", _SKU, None),
    "adjust": ("POST", "/inventory/{sku}/adjustments", _SKU, None),
    "buy": ("POST", "/checkouts", {}, _BUY_ONE),
}
_FROM_A_PRODUCT = {**_FROM_A_SKU, "buy": ("POST", "/checkouts", {},
                                          {**_BUY_ONE, "currency": "$response.body#/currency"})}

LINKS: dict[tuple[str, str, str], dict[str, tuple[str, str, dict[str, str], Any]]] = {
    ("POST", "/checkouts", "201"): _FROM_A_CHECKOUT,
    ("POST", "/checkouts", "200"): _FROM_A_CHECKOUT,
    ("GET", "/checkouts/{checkout_id}", "200"): _FROM_A_CHECKOUT,
    ("POST", "/checkouts/{checkout_id}/confirm", "200"): _FROM_A_CHECKOUT,
    ("POST", "/checkouts/{checkout_id}/cancel", "200"): _FROM_A_CHECKOUT,
    ("POST", "/ops/checkouts/{checkout_id}/retry", "200"): _FROM_A_CHECKOUT,
    ("POST", "/ops/checkouts/{checkout_id}/resolve", "200"): _FROM_A_CHECKOUT,
    ("GET", "/orders/{order_id}", "200"): {
        **_FROM_AN_ORDER, "checkout": ("GET", "/checkouts/{checkout_id}", _CHECKOUT_ID, None)},
    ("POST", "/orders/{order_id}/refunds", "201"): _FROM_AN_ORDER,
    ("GET", "/orders", "200"): {
        "first": ("GET", "/orders/{order_id}", {"order_id": "$response.body#/items/0/order_id"}, None)},
    ("GET", "/ops/checkouts", "200"): {
        name: (method, path, {"checkout_id": "$response.body#/items/0/checkout_id"}, None)
        for name, (method, path, _, _) in _FROM_A_CHECKOUT.items() if "checkout_id" in path},
    ("PUT", "/products/{sku}", "200"): {
        **_FROM_A_PRODUCT,
        "seller": ("GET", "/sellers/{seller_id}", {"seller_id": "$response.body#/seller_id"}, None),
        "enable_seller": ("PUT", "/sellers/{seller_id}", {"seller_id": "$response.body#/seller_id"},
                          {"charges_enabled": True})},
    ("GET", "/products/{sku}", "200"): _FROM_A_PRODUCT,
    ("POST", "/inventory/{sku}/adjustments", "200"): _FROM_A_SKU,
    ("GET", "/inventory/{sku}", "200"): _FROM_A_SKU,
    ("PUT", "/sellers/{seller_id}", "200"): {
        "read": ("GET", "/sellers/{seller_id}", {"seller_id": "$response.body#/seller_id"}, None)},
}


def add_links(openapi: OpenAPI) -> None:
    """Put LINKS on the responses of the generated document (targets named by operationId)."""
    operations = {(method.upper(), path): operation
                  for path, item in (openapi.paths or {}).items()
                  for method in ("get", "put", "post", "delete", "patch")
                  if isinstance(operation := getattr(item, method, None), Operation)}
    for (method, path, status), links in LINKS.items():
        source = operations.get((method, path))
        response = (source.responses or {}).get(status) if source else None
        if not isinstance(response, OpenAPIResponse):
            raise LookupError(f"a link starts at {method} {path} {status}, which is not in the document")
        response.links = {}
        for name, (target_method, target_path, parameters, body) in links.items():
            target = operations.get((target_method, target_path))
            if target is None:
                raise LookupError(f"link {name} of {method} {path} targets {target_method} "
                                  f"{target_path}, which is not in the document")
            response.links[name] = Link(operation_id=target.operation_id,
                                        parameters=dict(parameters) or None, request_body=body)


# --- what litestar's generator cannot say, added to the built document -----------------------

# CONTRACT §3.2 v2: a fulfilment move to ``shipped`` needs a tracking number (JSON Schema 2020-12).
SHIPPED_NEEDS_TRACKING = {
    "if": {"properties": {"status": {"const": "shipped"}}, "required": ["status"]},
    "then": {"required": ["tracking_number"],
             "properties": {"tracking_number": {"type": "string", "minLength": 1, "maxLength": 255,
                                                "pattern": "\\S"}}},
}
CROSS_FIELD_RULES = {"FulfillmentIn": SHIPPED_NEEDS_TRACKING}


def finish_document(document: dict[str, Any]) -> dict[str, Any]:
    """The one post-processing pass over the generated document: cross-field rules, optional
    bodies, ECMA-262 patterns in parameters."""
    schemas = document.get("components", {}).get("schemas", {})
    for name, rule in CROSS_FIELD_RULES.items():
        schemas[name].update(rule)
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            if not isinstance(operation, dict):
                continue
            _optional_body(operation.get("requestBody"))
            _rate_limited(method, operation)
            for parameter in operation.get("parameters", ()):
                _ecma_pattern(parameter.get("schema") or {})
    return document


def _optional_body(body: dict[str, Any] | None) -> None:
    """A body declared ``X | None`` may be left out (litestar reads no body as None), as the
    routes do: the document says it is not required."""
    schema = ((body or {}).get("content", {}).get("application/json") or {}).get("schema") or {}
    if {"type": "null"} in schema.get("oneOf", ()):
        body["required"] = False


def _rate_limited(method: str, operation: dict[str, Any]) -> None:
    """CONTRACT §3.10: a storefront write (any write route without a 403, i.e. open to a
    storefront key) may be answered ``429 rate_limited``, as its problem responses are."""
    responses = operation.get("responses", {})
    if method.upper() not in RATE_LIMITED_METHODS or "403" in responses or "401" not in responses:
        return
    responses.setdefault("429", {**responses["401"], "description": TITLES[429]})


RATE_LIMITED_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _ecma_pattern(schema: dict[str, Any]) -> None:
    pattern = schema.get("pattern")
    if isinstance(pattern, str) and pattern.startswith("\\A") and pattern.endswith("\\Z"):
        schema["pattern"] = f"^{pattern[2:-2]}$"


@dataclass
class LinkedOpenAPI(OpenAPI):
    def to_schema(self) -> dict[str, Any]:
        add_links(self)
        return finish_document(super().to_schema())


@dataclass
class ApiDocumentConfig(OpenAPIConfig):
    """litestar's OpenAPI config, whose document carries LINKS (litestar has no per-response
    links in its route decorators, so they are added here, once, to the built document)."""

    def to_openapi_schema(self) -> OpenAPI:
        document = super().to_openapi_schema()
        return LinkedOpenAPI(**{f.name: getattr(document, f.name) for f in fields(document)})
