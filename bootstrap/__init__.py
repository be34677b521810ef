"""The one composition root: ``build(settings, **overrides) -> System``.

Every process — ``serve``, ``worker``, each CLI command, the API app factory, the benches and
the tests — gets its parts from here; tests pass overrides (a fake gateway, a fake clock, a
store on their own database) instead of patching. Nothing is built at import time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from adapters.clock import SystemClock
from adapters.event_store import EventsourcingStore
from adapters.metrics import LoggingSagaObserver, Metrics
from adapters.settings import Settings
from adapters.stripe_gateway import StripeGatewayConfig, StripePaymentGateway
from application.catalog_service import CatalogService
from application.checkout_service import CheckoutService
from application.command_runner import CommandRunner
from application.order_service import OrderService
from application.payment_effects import PaymentEffects
from application.stripe_inbox import PaymentEventInbox
from checkout_saga import ports
from checkout_saga.refunds import RefundPolicy

RECONCILE_EVERY_SECONDS = 300.0
PURGE_EVERY_SECONDS = 3600.0


@dataclass
class System:
    """The wired parts of one process. The read side and the worker are built on first use:
    a CLI command that never reads a projection never opens one."""

    settings: Settings
    store: Any
    gateway: ports.PaymentGateway
    clock: ports.Clock
    metrics: Metrics
    observer: ports.SagaObserver
    catalog: CatalogService
    orders: OrderService
    checkouts: CheckoutService
    inbox: PaymentEventInbox
    _read_models: Any = field(default=None, repr=False)
    _idempotency_records: Any = field(default=None, repr=False)

    # --- the read side and background work ----------------------------------------------

    @property
    def read_models(self):
        """The projections on this system's database, migrated."""
        if self._read_models is None:
            from projections.runtime import ReadModels

            models = ReadModels(self.settings.database, event_store=self.store)
            models.migrate()
            self._read_models = models
        return self._read_models

    @property
    def idempotency_records(self):
        """The HTTP layer's Idempotency-Key claims, in the read database."""
        if self._idempotency_records is None:
            from adapters.idempotency_records import IdempotencyRecords
            from adapters.read_database import ReadDatabase

            self._idempotency_records = IdempotencyRecords(
                ReadDatabase(self.settings.database, pool_size=4))
        return self._idempotency_records

    def reconciler(self, *, window_hours: float = 24.0, counter=None):
        from application.reconciliation import Reconciler

        return Reconciler(self.checkouts, self.inbox, self.gateway, self.read_models.db,
                          window=timedelta(hours=window_hours), metrics=counter)

    def worker(self, **options):
        """The saga worker on this system: timers, recovery and scheduled reconciliation."""
        from adapters.idempotency_records import scheduled_purge
        from application.due_work import DueWork
        from application.reconciliation import discrepancy_counter, scheduled
        from application.worker import Worker, WorkerMetrics

        metrics = WorkerMetrics(self.metrics.registry)
        reconciler = self.reconciler(counter=discrepancy_counter(self.metrics.registry))
        jobs = {
            "reconcile": (RECONCILE_EVERY_SECONDS, scheduled(reconciler, RECONCILE_EVERY_SECONDS)),
            "purge_idempotency_keys": (PURGE_EVERY_SECONDS,
                                       scheduled_purge(self.idempotency_records, self.clock)),
        }
        return Worker(self.checkouts, DueWork(self.read_models.db, self.store), metrics=metrics,
                      jobs=jobs, **options)

    def close(self) -> None:
        if self._read_models is not None:
            self._read_models.close()
        if self._idempotency_records is not None:
            self._idempotency_records.close()
        close = getattr(self.store, "close", None)
        if close is not None:
            close()


def stripe_gateway(settings: Settings) -> StripePaymentGateway:
    return StripePaymentGateway(StripeGatewayConfig(
        api_key=settings.stripe_secret_key or "sk_test_emulator",
        api_base=settings.stripe_api_base, timeout_seconds=10, max_network_retries=2))


def build(settings: Settings, *, store=None, gateway: ports.PaymentGateway | None = None,
          clock: ports.Clock | None = None, metrics: Metrics | None = None,
          observer: ports.SagaObserver | None = None, sleep=None,
          read_models=None) -> System:
    """Wire one process. Overrides replace a part; everything else is built from settings."""
    store = store if store is not None else EventsourcingStore(settings.database)
    gateway = gateway if gateway is not None else stripe_gateway(settings)
    clock = clock if clock is not None else SystemClock()
    metrics = metrics if metrics is not None else Metrics()
    observer = observer if observer is not None else LoggingSagaObserver(metrics)
    runner = CommandRunner(store, clock, observer=observer,
                           **({"sleep": sleep} if sleep is not None else {}))
    effects = PaymentEffects(gateway, observer)
    catalog = CatalogService(runner)
    orders = OrderService(runner, catalog, effects, refund_policy=RefundPolicy(
        window_days=settings.refund_window_days, approval_above=settings.refund_approval_above))
    checkouts = CheckoutService(runner, catalog, effects,
                                reservation_ttl=timedelta(seconds=settings.reservation_ttl_seconds))
    inbox = PaymentEventInbox(checkouts, orders, gateway)
    return System(settings=settings, store=store, gateway=gateway, clock=clock, metrics=metrics,
                  observer=observer, catalog=catalog, orders=orders, checkouts=checkouts,
                  inbox=inbox, _read_models=read_models)
