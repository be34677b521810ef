"""The HTTP API's app factory: routes, error mapping and middleware around a wired ``System``
(``bootstrap.build``). It builds no part of the system itself."""

from __future__ import annotations

from litestar import Litestar
from litestar.datastructures import State

from api.admin_reports import AdminReportsController
from api.auth import Keys
from api.bodies import JsonRequest
from api.catalog import CatalogController
from api.checkouts import CheckoutController
from api.console import console_routes, schema_render_plugin
from api.customers import CustomerController
from api.health import healthz, metrics, readyz
from api.inventory import InventoryController
from api.logging import request_logging_middleware
from api.openapi import COMPONENTS, ApiDocumentConfig, StrictRequestSchemaPlugin
from api.ops import OpsController
from api.order_admin import OrderAdminController
from api.orders import OrderController
from api.outbox import OutboxController
from api.payments import PaymentController
from api.problems import EXCEPTION_HANDLERS
from api.rate_limit import RateLimit, rate_limit_middleware
from api.refunds import RefundController
from api.webhooks import WebhookController
from bootstrap import System

MAX_BODY_BYTES = 1024 * 1024


def create_app(system: System, *, rate_limit: RateLimit | None = None) -> Litestar:
    """``rate_limit``: the storefront write limit, else built from the settings (§3.10)."""
    settings = system.settings
    keys = Keys(storefront=tuple(settings.api_keys), admin=tuple(settings.admin_keys))
    limit = rate_limit if rate_limit is not None else RateLimit.from_settings(settings, keys)
    state = State({
        "system": system,
        "api_keys": keys,
        "metrics": system.metrics,
        "webhook_secret": settings.stripe_webhook_secret,
    })
    return Litestar(
        route_handlers=[CheckoutController, OrderController, OrderAdminController,
                        InventoryController, CatalogController, OpsController, OutboxController,
                        WebhookController, CustomerController, PaymentController,
                        AdminReportsController, RefundController, healthz, readyz, metrics,
                        *console_routes(keys)],
        state=state,
        plugins=[StrictRequestSchemaPlugin()],
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[request_logging_middleware,
                    *([rate_limit_middleware(limit)] if limit is not None else [])],
        request_max_body_size=MAX_BODY_BYTES,
        request_class=JsonRequest,
        on_shutdown=[limit.close] if limit is not None else [],
        openapi_config=ApiDocumentConfig(
            title="checkout-saga", version="1.0.0", path="/schema",
            render_plugins=[schema_render_plugin()], components=COMPONENTS,
            description="Event-sourced checkout saga: checkouts, orders, refunds, inventory."),
        debug=False,
        logging_config=None,  # the process's logging is set up once, by adapters.logging_setup
    )
