"""Fixtures of the API tests: the app on the test's database with the fake gateway and
fake read models, and a client with a shop seeded through the API."""

from __future__ import annotations

import dataclasses

import pytest
from litestar.testing import TestClient

from adapters.clock import SystemClock
from adapters.database import parse_database_url
from adapters.read_database import ReadDatabase
from adapters.stripe_gateway import StripeGatewayConfig, StripePaymentGateway
from api.app import create_app
from application.reconciliation import Reconciler
from migrations import migrate
from tests.conftest import system_for
from tests.integration.api_support import ADMIN, ADMIN_KEY, FakeReadModels, api_settings
from tests.integration.ledger_support import SECOND_ADMIN_KEY
from tests.plugins.emulator import TEST_API_KEY


@pytest.fixture
def api_read_models():
    return FakeReadModels()


@pytest.fixture
def client(service, gateway, clock, database_url, api_read_models):
    app = create_app(system_for(service.store, gateway, clock, settings=api_settings(database_url),
                                read_models=api_read_models))
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def shop_client(client):
    """A seller who can take payments; T-shirts (10 in stock at 19.99) and mugs (5 at 12.50)."""
    assert client.put("/sellers/acct_1", json={"charges_enabled": True}, headers=ADMIN).status_code == 200
    for sku, amount, stock in (("TSHIRT-M", 1999, 10), ("MUG", 1250, 5)):
        product = {"name": sku, "unit_amount": amount, "currency": "usd", "seller_id": "acct_1",
                   "active": True}
        assert client.put(f"/products/{sku}", json=product, headers=ADMIN).status_code == 200
        adjustment = {"delta": stock, "reason": "initial"}
        assert client.post(f"/inventory/{sku}/adjustments", json=adjustment,
                           headers=ADMIN).status_code == 200
    return client


@pytest.fixture
def stripe_shop(store, stripe_emulator, database_url):
    """The system on the Stripe emulator over HTTP; a seller and 10 mugs at 12.50."""
    gateway = StripePaymentGateway(StripeGatewayConfig(api_key=TEST_API_KEY,
                                                       api_base=stripe_emulator.base_url))
    service = system_for(store, gateway, SystemClock(), settings=api_settings(database_url))
    service.catalog.set_seller("acct_1", charges_enabled=True)
    service.catalog.upsert_product(sku="MUG", name="Mug", unit_amount=1250, currency="usd",
                                   seller_id="acct_1", active=True)
    service.catalog.adjust_stock("MUG", 10, "initial")
    yield service
    gateway.close()


@pytest.fixture
def stripe_reconciler(stripe_shop, database_url):
    db = ReadDatabase(parse_database_url(database_url))
    migrate(db)
    yield Reconciler(stripe_shop.checkouts, stripe_shop.inbox, stripe_shop.gateway, db)
    db.close()


# --- the payments ledger and refund controls (issue 12): real read models, two admins ---


@pytest.fixture
def ledger_settings(database_url):
    return dataclasses.replace(api_settings(database_url), admin_keys=(ADMIN_KEY, SECOND_ADMIN_KEY))


@pytest.fixture
def ledger_client(service, gateway, clock, ledger_settings, read_models):
    """A seller, T-shirts (100 at 19.99) and mugs (100 at 12.50); projections caught up by
    ``caught_up(client)``."""
    app = create_app(system_for(service.store, gateway, clock, settings=ledger_settings,
                                read_models=read_models))
    with TestClient(app) as client:
        assert client.put("/sellers/acct_1", json={"charges_enabled": True},
                          headers=ADMIN).status_code == 200
        for sku, amount in (("TSHIRT-M", 1999), ("MUG", 1250)):
            product = {"name": sku, "unit_amount": amount, "currency": "usd",
                       "seller_id": "acct_1", "active": True}
            assert client.put(f"/products/{sku}", json=product, headers=ADMIN).status_code == 200
            assert client.post(f"/inventory/{sku}/adjustments", json={"delta": 100, "reason": "initial"},
                               headers=ADMIN).status_code == 200
        client.read_models = read_models
        yield client
