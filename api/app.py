"""The one composition root: ``create_app(settings)`` wires store, gateway, clock, service,
metrics and routes. Nothing happens at import time; tests pass their own parts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Litestar
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin

from api.auth import Keys
from api.bodies import JsonRequest
from api.catalog import CatalogController
from api.checkouts import CheckoutController
from api.health import healthz, metrics, readyz
from api.inventory import InventoryController
from api.logging import request_logging_middleware
from api.metrics import LoggingSagaObserver, Metrics
from api.openapi import COMPONENTS, StrictRequestSchemaPlugin
from api.ops import OpsController
from api.orders import OrderController
from api.problems import EXCEPTION_HANDLERS
from api.webhooks import WebhookController

MAX_BODY_BYTES = 1024 * 1024


def _default_gateway(settings) -> Any:
    from adapters.stripe_gateway import StripeGatewayConfig, StripePaymentGateway

    return StripePaymentGateway(StripeGatewayConfig(
        api_key=settings.stripe_secret_key or "sk_test_emulator",
        api_base=settings.stripe_api_base, timeout_seconds=10, max_network_retries=2))


def build_service(settings, *, gateway=None, clock=None, observer=None):
    from adapters.clock import SystemClock
    from adapters.event_store import EventsourcingStore
    from checkout_saga.service import CheckoutService

    return CheckoutService(
        EventsourcingStore(settings.database), gateway or _default_gateway(settings),
        clock or SystemClock(), reservation_ttl=timedelta(seconds=settings.reservation_ttl_seconds),
        observer=observer)


def build_idempotency_records(settings):
    from adapters.idempotency_records import IdempotencyRecords
    from projections.db import ReadDatabase

    return IdempotencyRecords(ReadDatabase(settings.database, pool_size=4))


def create_app(settings, *, service=None, gateway=None, clock=None, read_models=None,
               reconciliation=None, metrics_registry: Metrics | None = None,
               idempotency_records=None) -> Litestar:
    app_metrics = metrics_registry or Metrics()
    observer = LoggingSagaObserver(app_metrics)
    if service is None:
        service = build_service(settings, gateway=gateway, clock=clock, observer=observer)
    elif isinstance(getattr(service, "observer", None), type(None)) or \
            type(service.observer).__name__ == "NullObserver":
        service.observer = observer
    state = State({
        "service": service,
        "clock": clock or service.clock,
        "api_keys": Keys(storefront=tuple(settings.api_keys), admin=tuple(settings.admin_keys)),
        "metrics": app_metrics,
        "read_models": read_models,
        "reconciliation": reconciliation,
        "webhook_secret": settings.stripe_webhook_secret,
    })
    owns_records = idempotency_records is None
    state["idempotency_records"] = idempotency_records or build_idempotency_records(settings)
    return Litestar(
        route_handlers=[CheckoutController, OrderController, InventoryController, CatalogController,
                        OpsController, WebhookController, healthz, readyz, metrics],
        state=state,
        plugins=[StrictRequestSchemaPlugin()],
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[request_logging_middleware],
        request_max_body_size=MAX_BODY_BYTES,
        request_class=JsonRequest,
        on_shutdown=[lambda: state["idempotency_records"].close()] if owns_records else [],
        openapi_config=OpenAPIConfig(
            title="checkout-saga", version="1.0.0", path="/schema",
            render_plugins=[ScalarRenderPlugin()], components=COMPONENTS,
            description="Event-sourced checkout saga: checkouts, orders, refunds, inventory."),
        debug=False,
        logging_config=None,  # the process's logging is set up once, by adapters.logging_setup
    )
