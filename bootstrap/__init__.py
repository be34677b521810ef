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
from adapters.pdf_documents import InvoicePdfs
from adapters.settings import Settings
from adapters.stripe_gateway import StripeGatewayConfig, StripePaymentGateway
from application.catalog_service import CatalogService
from application.checkout_service import CheckoutService
from application.command_runner import CommandRunner
from application.customer_service import CustomerService
from application.invoicing import ISSUE_CONFLICT_BUDGET, InvoicingService
from application.order_admin import OrderAdmin
from application.order_service import OrderService
from application.payment_effects import PaymentEffects
from application.stripe_inbox import PaymentEventInbox
from checkout_saga import ports
from checkout_saga.errors import NotFoundError
from checkout_saga.pricing import Pricing
from checkout_saga.refunds import RefundPolicy

RECONCILE_EVERY_SECONDS = 300.0
PURGE_EVERY_SECONDS = 3600.0
INVOICE_SWEEP_SECONDS = 10.0


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
    customers: CustomerService
    invoicing: InvoicingService | None = None
    order_admin: OrderAdmin | None = None
    _read_models: Any = field(default=None, repr=False)
    _idempotency_records: Any = field(default=None, repr=False)
    _notifications: Any = field(default=None, repr=False)
    notification_parts: dict[str, Any] = field(default_factory=dict, repr=False)
    _webhook_intake: Any = field(default=None, repr=False)

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

    @property
    def notifications(self):
        """The notifications outbox (issue 13): its feeder, senders, endpoints and items."""
        if self._notifications is None:
            from adapters.mail import mail_domain, mailer_for
            from adapters.read_database import ReadDatabase
            from adapters.webhook_sender import HttpWebhookSender
            from application.notifications import Notifications
            from migrations import migrate

            parts = self.notification_parts
            mailer = parts.get("mailer") or mailer_for(self.settings.smtp_url, self.settings.mail_from)
            db = ReadDatabase(self.settings.database, pool_size=4)
            migrate(db)
            self._notifications = Notifications(
                db, self.store, clock=self.clock, mailer=mailer,
                webhooks=parts.get("webhook_sender") or HttpWebhookSender(),
                admin_email=self.settings.admin_email,
                mail_domain=mail_domain(self.settings.mail_from),
                documents=parts.get("invoice_documents"), metrics=self.metrics)
        return self._notifications

    @property
    def webhook_intake(self):
        """Stripe webhooks: recorded by the route (one insert), applied by the worker."""
        if self._webhook_intake is None:
            from adapters.read_database import ReadDatabase
            from adapters.stripe_webhook_log import StripeWebhookLog
            from application.webhook_intake import WebhookIntake

            self._webhook_intake = WebhookIntake(
                StripeWebhookLog(ReadDatabase(self.settings.database, pool_size=8)), self.inbox,
                self.clock, counter=self.metrics.webhooks)
        return self._webhook_intake

    def reconciler(self, *, window_hours: float = 24.0, counter=None):
        from application.reconciliation import Reconciler

        return Reconciler(self.checkouts, self.inbox, self.gateway, self.read_models.db,
                          window=timedelta(hours=window_hours), metrics=counter)

    def worker(self, **options):
        """The saga worker on this system: timers, recovery and scheduled reconciliation."""
        from adapters.idempotency_records import scheduled_purge
        from adapters.stripe_webhook_log import scheduled_purge as purge_webhook_log
        from application.due_work import DueWork
        from application.reconciliation import discrepancy_counter, scheduled
        from application.worker import Worker, WorkerMetrics

        metrics = WorkerMetrics(self.metrics.registry)
        reconciler = self.reconciler(counter=discrepancy_counter(self.metrics.registry))
        jobs = {
            "reconcile": (RECONCILE_EVERY_SECONDS, scheduled(reconciler, RECONCILE_EVERY_SECONDS)),
            "purge_idempotency_keys": (PURGE_EVERY_SECONDS,
                                       scheduled_purge(self.idempotency_records, self.clock)),
            "purge_stripe_webhook_log": (PURGE_EVERY_SECONDS,
                                         purge_webhook_log(self.webhook_intake.log, self.clock)),
        }
        if self.invoicing is not None:
            # at once on start (documents owed since a crash), then now and then
            jobs["invoices"] = (INVOICE_SWEEP_SECONDS, self.invoicing.sweep, True)
        options.setdefault("orders", self.orders)
        options.setdefault("inbox", self.inbox)
        self.notifications.feeder.ensure()
        jobs.update(self.notifications.jobs())
        options.setdefault("intake", self.webhook_intake)
        return Worker(self.checkouts, DueWork(self.read_models.db, self.store), metrics=metrics,
                      jobs=jobs, **options)

    def close(self) -> None:
        if self._read_models is not None:
            self._read_models.close()
        if self._idempotency_records is not None:
            self._idempotency_records.close()
        if self._notifications is not None:
            self._notifications.close()
        if self._webhook_intake is not None:
            self._webhook_intake.log.close()
        close = getattr(self.store, "close", None)
        if close is not None:
            close()


def stripe_gateway(settings: Settings) -> StripePaymentGateway:
    return StripePaymentGateway(StripeGatewayConfig(
        api_key=settings.stripe_secret_key or "sk_test_emulator",
        api_base=settings.stripe_api_base, timeout_seconds=10, max_network_retries=2))


def pricing_of(settings: Settings) -> Pricing:
    return Pricing(default_currency=settings.default_currency, tax_rate=settings.tax_rate,
                   shipping_amount=settings.shipping_amount,
                   free_shipping_over=settings.free_shipping_over)


def _order_or_none(orders: OrderService, order_id: str):
    try:
        return orders.get_order(order_id)
    except NotFoundError:
        return None


def build(settings: Settings, *, store=None, gateway: ports.PaymentGateway | None = None,
          clock: ports.Clock | None = None, metrics: Metrics | None = None,
          observer: ports.SagaObserver | None = None, sleep=None,
          read_models=None, mailer=None, webhook_sender=None,
          invoice_documents=None) -> System:
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
                                reservation_ttl=timedelta(seconds=settings.reservation_ttl_seconds),
                                pricing=pricing_of(settings))
    customers = CustomerService(runner, gateway)
    inbox = PaymentEventInbox(checkouts, orders, gateway, customers)
    # documents get their own runner: a contended number sequence gives up sooner (the sweep
    # resumes it), and its appends are not followed again
    invoicing = InvoicingService(
        CommandRunner(store, clock, observer=observer, conflict_budget=ISSUE_CONFLICT_BUDGET,
                      **({"sleep": sleep} if sleep is not None else {})), catalog)
    runner.followers.append(invoicing.after_recorded)
    order_admin = OrderAdmin(runner, orders, checkouts)
    if invoice_documents is None:
        invoice_documents = InvoicePdfs(lambda order_id: _order_or_none(orders, order_id))
    return System(settings=settings, store=store, gateway=gateway, clock=clock, metrics=metrics,
                  observer=observer, catalog=catalog, orders=orders, checkouts=checkouts,
                  inbox=inbox, customers=customers, invoicing=invoicing,
                  order_admin=order_admin, _read_models=read_models,
                  notification_parts={"mailer": mailer, "webhook_sender": webhook_sender,
                                      "invoice_documents": invoice_documents})
