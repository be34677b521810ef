"""/inventory: levels (storefront read) and adjustments (admin)."""

from __future__ import annotations

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody

from api import schemas as s
from api import views as v
from api.auth import admin_guard, storefront_guard
from api.context import catalog_of, operator_cause
from api.openapi import BEARER, IdempotencyKey, problems_for
from api.writes import idempotent_write, strict_body


class InventoryController(Controller):
    path = "/inventory"
    tags = ["inventory"]
    security = BEARER

    @get("/{sku:str}", guards=[storefront_guard], sync_to_thread=True,
         responses=problems_for(401, 404))
    def read(self, request: Request, sku: FromPath[str]) -> s.InventoryOut:
        return v.inventory_out(sku, catalog_of(request).get_inventory(sku))

    @post("/{sku:str}/adjustments", guards=[admin_guard], status_code=200,
          responses=problems_for(400, 401, 403, 409, 413, 422))
    async def adjust(self, request: Request, sku: FromPath[str], data: JSONBody[s.AdjustmentIn],
                     idempotency_key_header: IdempotencyKey = None) -> Response[s.InventoryOut]:
        await strict_body(request, s.AdjustmentIn)

        def run() -> tuple[int, s.InventoryOut]:
            level = catalog_of(request).adjust_stock(sku, data.delta, data.reason,
                                                     operator_cause(request, data.reason))
            return 200, v.inventory_out(sku, level)

        return await idempotent_write(request, f"adjust:{sku}", run)
