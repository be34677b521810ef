"""A stateful, Stripe-compatible HTTP server for development and tests (CONTRACT §3.8).

Reached through the real `stripe` SDK over HTTP: PaymentIntents, Refunds and Events with
Stripe's shapes, status machine, errors and idempotency; signed webhooks with retries;
control routes under `/_emulator` for 3-D Secure, disputes, faults and reset.
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
