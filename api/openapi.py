"""OpenAPI declarations: the problem+json error responses, and strict request schemas."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    Components,
    OpenAPIMediaType,
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
        event = Schema(
            type=OpenAPIType.OBJECT, required=["id", "type", "data"],
            description="a Stripe event, signed by Stripe-Signature",
            properties={"id": Schema(type=OpenAPIType.STRING), "type": Schema(type=OpenAPIType.STRING),
                        "created": Schema(type=OpenAPIType.INTEGER),
                        "data": Schema(type=OpenAPIType.OBJECT, required=["object"],
                                       properties={"object": Schema(type=OpenAPIType.OBJECT)})})
        self.request_body = RequestBody(
            content={"application/json": OpenAPIMediaType(schema=event)}, required=True,
            description="Stripe's event, as sent (the signature covers these bytes)")
