"""The HTTP API's app factory: routes, error mapping and middleware around a wired ``System``
(``bootstrap.build``). It builds no part of the system itself."""

from __future__ import annotations

from litestar import Litestar
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin

from api.admin_reports import AdminReportsController
from api.auth import Keys
from api.bodies import JsonRequest
from api.catalog import CatalogController
from api.checkouts import CheckoutController
from api.health import healthz, metrics, readyz
from api.inventory import InventoryController
from api.logging import request_logging_middleware
from api.openapi import COMPONENTS, StrictRequestSchemaPlugin
from api.ops import OpsController
from api.orders import OrderController
from api.payments import PaymentController
from api.problems import EXCEPTION_HANDLERS
from api.refunds import RefundController
from api.webhooks import WebhookController
from bootstrap import System

MAX_BODY_BYTES = 1024 * 1024


def create_app(system: System) -> Litestar:
    settings = system.settings
    state = State({
        "system": system,
        "api_keys": Keys(storefront=tuple(settings.api_keys), admin=tuple(settings.admin_keys)),
        "metrics": system.metrics,
        "webhook_secret": settings.stripe_webhook_secret,
    })
    return Litestar(
        route_handlers=[CheckoutController, OrderController, InventoryController, CatalogController,
                        OpsController, WebhookController, healthz, readyz, metrics,
                        PaymentController, AdminReportsController, RefundController],
        state=state,
        plugins=[StrictRequestSchemaPlugin()],
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[request_logging_middleware],
        request_max_body_size=MAX_BODY_BYTES,
        request_class=JsonRequest,
        openapi_config=OpenAPIConfig(
            title="checkout-saga", version="1.0.0", path="/schema",
            render_plugins=[ScalarRenderPlugin()], components=COMPONENTS,
            description="Event-sourced checkout saga: checkouts, orders, refunds, inventory."),
        debug=False,
        logging_config=None,  # the process's logging is set up once, by adapters.logging_setup
    )
