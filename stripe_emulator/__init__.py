"""A stateful, Stripe-compatible HTTP server for development and tests (CONTRACT §3.8).

Reached through the real `stripe` SDK over HTTP, with Stripe's shapes, status machines,
errors and idempotency: PaymentIntents (with `customer`, `off_session`,
`setup_future_usage`), Charges and their BalanceTransactions (fee 2.9 % + 30), Refunds,
Disputes, Customers, PaymentMethods (test tokens become saved cards), SetupIntents,
Events and WebhookEndpoints (`enabled_events`). Webhooks are signed and retried; control
routes under `/_emulator` finish 3-D Secure, open and close disputes, register
catch-all endpoints, arm faults and reset.
"""

from stripe_emulator.app import EmulatorApp, create_emulator_app
from stripe_emulator.config import EmulatorConfig
from stripe_emulator.server import EmulatorServer, serve_forever

__all__ = [
    "EmulatorApp",
    "EmulatorConfig",
    "EmulatorServer",
    "create_emulator_app",
    "serve_forever",
]
