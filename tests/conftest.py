"""Shared fixtures: real SQLite files and real PostgreSQL databases (created and dropped
per test on 127.0.0.1:5432), a fake clock and the in-memory payment gateway."""

from __future__ import annotations

import importlib.util
import os
import sys
import uuid

import pytest
import structlog
from hypothesis import HealthCheck, settings

from adapters.clock import FakeClock
from adapters.database import parse_database_url
from adapters.event_store import EventsourcingStore
from adapters.fake_payment_gateway import FakePaymentGateway
from adapters.settings import Settings
from bootstrap import build


def _available(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


pytest_plugins = [
    name
    for name in ("tests.plugins.emulator", "tests.plugins.localstripe")
    if _available(name)
]

# Log lines go to stderr in tests, so that a command's output on stdout stays its own.
structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))

settings.register_profile(
    "ci", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile("thorough", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

PG_ADMIN = "host=127.0.0.1 port=5432 user=root dbname=postgres connect_timeout=3"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _admin_connection():
    import psycopg

    try:
        return psycopg.connect(PG_ADMIN, autocommit=True)
    except psycopg.OperationalError as exc:
        message = f"PostgreSQL not reachable at 127.0.0.1:5432 ({exc.__class__.__name__})"
        if IN_CI:
            pytest.fail(f"{message}; CI requires the PostgreSQL tests to run")
        pytest.skip(message)


@pytest.fixture
def pg_database_url():
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    name = f"cs_test_{uuid.uuid4().hex[:12]}"
    with _admin_connection() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://root@127.0.0.1:5432/{name}"
    finally:
        with _admin_connection() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_database_url(tmp_path):
    return f"sqlite:///{tmp_path}/checkout-saga.db"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request):
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_database_url")
    return request.getfixturevalue("pg_database_url")


@pytest.fixture
def store(database_url):
    event_store = EventsourcingStore(parse_database_url(database_url), pool_size=4)
    yield event_store
    event_store.close()


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def gateway():
    return FakePaymentGateway()


def system_for(store, gateway, clock, database_url: str = "sqlite:///:memory:", *,
               reservation_ttl_seconds: int = 900, settings: Settings | None = None,
               **overrides):
    """The system as ``bootstrap.build`` wires it, on the test's store, gateway and clock."""
    settings = settings or Settings(database_url=database_url,
                                    database=parse_database_url(database_url),
                                    reservation_ttl_seconds=reservation_ttl_seconds)
    overrides.setdefault("sleep", lambda _: None)
    return build(settings, store=store, gateway=gateway, clock=clock, **overrides)


@pytest.fixture
def service(store, gateway, clock, database_url):
    """The wired system (``bootstrap.System``): ``.checkouts``, ``.orders``, ``.catalog``, ``.inbox``."""
    return system_for(store, gateway, clock, database_url)


@pytest.fixture
def shop(service):
    """A seller who can take payments, and two products with stock."""
    service.catalog.set_seller("acct_1", charges_enabled=True)
    service.catalog.upsert_product(sku="TSHIRT-M", name="T-shirt M", unit_amount=1999, currency="usd",
                           seller_id="acct_1", active=True)
    service.catalog.upsert_product(sku="MUG", name="Mug", unit_amount=1250, currency="usd",
                           seller_id="acct_1", active=True)
    service.catalog.adjust_stock("TSHIRT-M", 10, "initial")
    service.catalog.adjust_stock("MUG", 5, "initial")
    return service


@pytest.fixture
def read_models(database_url, store):
    """The read models on the test's database, migrated (runners not started)."""
    from projections.runtime import ReadModels

    models = ReadModels(parse_database_url(database_url), event_store=store)
    models.migrate()
    yield models
    models.close()
