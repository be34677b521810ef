"""Fixtures of the console tests: the system on the test's database with a shop, and a client
that keeps cookies as a browser does (``browser``), or one signed in as an operator."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

from api.app import create_app
from tests.conftest import system_for
from tests.integration.api_support import ADMIN_KEY, api_settings
from tests.integration.console.support import log_in, seed_shop


@pytest.fixture
def system(store, gateway, clock, database_url):
    system = system_for(store, gateway, clock, settings=api_settings(database_url))
    seed_shop(system)
    yield system
    system.close()


@pytest.fixture
def browser(system):
    """A client that keeps cookies, as a browser does; not logged in."""
    with TestClient(create_app(system)) as client:
        yield client


@pytest.fixture
def operator(browser):
    assert log_in(browser, ADMIN_KEY).status_code == 303
    return browser
