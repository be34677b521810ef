"""/products and /sellers (admin)."""

from __future__ import annotations

from litestar import Controller, Request, Response, get, put
from litestar.params import FromPath, JSONBody

from api import schemas as s
from api import views as v
from api.auth import admin_guard
from api.checkouts import address_of
from api.context import catalog_of, operator_cause
from api.openapi import BEARER, IdempotencyKey, problems_for
from api.problems import ApiError
from api.writes import idempotent_write, strict_body


class CatalogController(Controller):
    path = "/"
    tags = ["catalog"]
    security = BEARER
    guards = [admin_guard]

    @put("/products/{sku:str}", status_code=200, responses=problems_for(400, 401, 403, 409, 413, 422))
    async def put_product(self, request: Request, sku: FromPath[str], data: JSONBody[s.ProductIn],
                          idempotency_key_header: IdempotencyKey = None) -> Response[s.ProductOut]:
        await strict_body(request, s.ProductIn)

        def run() -> tuple[int, s.ProductOut]:
            product = catalog_of(request).upsert_product(
                sku=sku, name=data.name, unit_amount=data.unit_amount, currency=data.currency,
                seller_id=data.seller_id, active=data.active, cause=operator_cause(request))
            return 200, v.product_out(product)

        return await idempotent_write(request, f"product:{sku}", run)

    @get("/products/{sku:str}", sync_to_thread=True, responses=problems_for(401, 403, 404))
    def get_product(self, request: Request, sku: FromPath[str]) -> s.ProductOut:
        product = catalog_of(request).get_product(sku)
        if product is None:
            raise ApiError(404, "not_found", f"no product {sku}")
        return v.product_out(product)

    @put("/sellers/{seller_id:str}", status_code=200, responses=problems_for(400, 401, 403, 409, 413, 422))
    async def put_seller(self, request: Request, seller_id: FromPath[str], data: JSONBody[s.SellerIn],
                         idempotency_key_header: IdempotencyKey = None) -> Response[s.SellerOut]:
        await strict_body(request, s.SellerIn)

        def run() -> tuple[int, s.SellerOut]:
            seller = catalog_of(request).set_seller(
                seller_id, charges_enabled=data.charges_enabled, cause=operator_cause(request),
                name=data.name, address=address_of(data.address), tax_id=data.tax_id,
                email=data.email)
            return 200, v.seller_out(seller)

        return await idempotent_write(request, f"seller:{seller_id}", run)

    @get("/sellers/{seller_id:str}", sync_to_thread=True, responses=problems_for(401, 403, 404))
    def get_seller(self, request: Request, seller_id: FromPath[str]) -> s.SellerOut:
        seller = catalog_of(request).get_seller(seller_id)
        if seller is None:
            raise ApiError(404, "not_found", f"no seller {seller_id}")
        return v.seller_out(seller)
