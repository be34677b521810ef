"""The in-memory fake passes the same contract scenarios as the Stripe adapter (STYLE: fakes,
not mocks — and a fake that drifts from the real thing is caught here)."""

from __future__ import annotations

import pytest

from adapters.fake_payment_gateway import FakePaymentGateway
from tests.integration.stripe_contract_scenarios import ContractServer, scenarios_for

FEATURES = frozenset({"amounts", "decline_attaches_intent", "idempotency", "search",
                      "list_objects", "confirm_later", "authenticate"})
CARDS = {"visa": "pm_card_visa", "declined": "pm_card_chargeDeclined",
         "authentication_required": "pm_card_authenticationRequired"}


class FakeServer(ContractServer):
    """A ContractServer whose gateway is one shared FakePaymentGateway."""

    def gateway(self, **_config) -> FakePaymentGateway:  # type: ignore[override]
        return self.fake  # type: ignore[attr-defined]


def fake_server() -> FakeServer:
    fake = FakePaymentGateway()
    server = FakeServer(
        name="fake", api_base="memory://", api_key="sk_test_fake",
        payment_method=CARDS.__getitem__, register_webhook=lambda url, secret: None,
        features=FEATURES,
        authenticate=lambda intent_id, outcome: fake.authenticate(
            intent_id, succeed=outcome == "succeed"))
    object.__setattr__(server, "fake", fake)
    return server


@pytest.mark.parametrize("scenario", scenarios_for(FEATURES))
def test_the_fake_honours_the_gateway_contract(scenario):
    scenario(fake_server())
