"""Fixtures shared by the end-to-end modules; each module defines its own ``server``."""

from __future__ import annotations

import pytest

from tests.e2e.http_helpers import EmulatorControl, Shop


@pytest.fixture(scope="module")
def shop(server):
    """The storefront/admin client of this module's server."""
    client = Shop(server.base_url)
    yield client
    client.close()


@pytest.fixture(scope="module")
def stripe_side(server):
    """Control of the emulator behind this module's server."""
    control = EmulatorControl(server.emulator_url)
    yield control
    control.close()
