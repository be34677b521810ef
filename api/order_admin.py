"""/orders v2: fulfilment moves and cancellation (admin), the invoice as JSON and the
invoice and credit-note PDFs (storefront reads)."""

from __future__ import annotations

from anyio import to_thread
from litestar import Controller, Request, Response, get, patch
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody

from adapters.pdf_documents import render_credit_note, render_invoice
from api import schemas as s
from api import views as v
from api.auth import admin_guard, storefront_guard
from api.context import operator_cause, system_of
from api.openapi import BEARER, IdempotencyKey, problems_for
from api.problems import ApiError
from api.writes import idempotent_write, strict_body
from application.order_admin import OrderAdmin

PDF = "application/pdf"
_PDF_RESPONSE = {200: ResponseSpec(data_container=bytes, media_type=PDF, description="the PDF")}


def _admin(request: Request) -> OrderAdmin:
    return system_of(request).order_admin


def _pdf(content: bytes, filename: str) -> Response[bytes]:
    return Response(content=content, media_type=PDF, status_code=200,
                    headers={"Content-Disposition": f'inline; filename="{filename}"'})


async def cancel_order(request: Request, order_id: str, data: s.CancelOrderIn | None) -> Response:
    """``DELETE /orders/{order_id}`` (routed from ``api.orders``, which owns that path)."""
    await strict_body(request, s.CancelOrderIn | None)
    reason = (data.reason if data else None) or "cancelled by an operator"

    def run() -> tuple[int, s.OrderOut]:
        order = _admin(request).cancel_order(order_id, reason, operator_cause(request, reason))
        return 200, v.order_out(order)

    return await idempotent_write(request, f"cancel_order:{order_id}", run)


class OrderAdminController(Controller):
    path = "/orders"
    tags = ["orders"]
    security = BEARER

    @patch("/{order_id:str}/status", guards=[admin_guard], status_code=200,
           responses=problems_for(400, 401, 403, 404, 409, 413, 422))
    async def move(self, request: Request, order_id: FromPath[str], data: JSONBody[s.FulfillmentIn],
                   idempotency_key_header: IdempotencyKey = None) -> Response[s.OrderOut]:
        """Move the fulfilment forward (processing, shipped with a tracking number, delivered)."""
        await strict_body(request, s.FulfillmentIn)

        def run() -> tuple[int, s.OrderOut]:
            order = _admin(request).move_fulfillment(
                order_id, status=data.status, carrier=data.carrier,
                tracking_number=data.tracking_number, cause=operator_cause(request))
            return 200, v.order_out(order)

        return await idempotent_write(request, f"fulfillment:{order_id}", run)

    @get("/{order_id:str}/invoice", guards=[storefront_guard], sync_to_thread=True,
         responses=problems_for(401, 404))
    def invoice(self, request: Request, order_id: FromPath[str]) -> s.InvoiceOut:
        """The order's invoice (issued once it is paid) with its credit notes."""
        order, invoice = _admin(request).invoice(order_id)
        return v.invoice_out(order, invoice)

    @get("/{order_id:str}/invoice.pdf", guards=[storefront_guard], media_type=PDF,
         responses={**_PDF_RESPONSE, **problems_for(401, 404)})
    async def invoice_pdf(self, request: Request, order_id: FromPath[str]) -> Response[bytes]:
        def render() -> Response[bytes]:
            order, invoice = _admin(request).invoice(order_id)
            return _pdf(render_invoice(order, invoice), f"{invoice.invoice_number}.pdf")

        return await to_thread.run_sync(render)

    @get("/{order_id:str}/credit-notes/{document:str}", guards=[storefront_guard], media_type=PDF,
         responses={**_PDF_RESPONSE, **problems_for(401, 404)})
    async def credit_note_pdf(self, request: Request, order_id: FromPath[str],
                              document: FromPath[str]) -> Response[bytes]:
        """``document`` is ``<credit_note_number>.pdf``, e.g. ``CN-2026-000001.pdf``."""
        if not document.endswith(".pdf"):
            raise ApiError(404, "not_found", f"no document {document}")
        number = document.removesuffix(".pdf")

        def render() -> Response[bytes]:
            order, invoice = _admin(request).invoice(order_id)
            _, note = _admin(request).credit_note(order_id, number)
            return _pdf(render_credit_note(order, invoice, note), f"{note.credit_note_number}.pdf")

        return await to_thread.run_sync(render)
