"""The emulator's parts wired together: objects, idempotency keys, faults, webhooks."""

from __future__ import annotations

from stripe_emulator.config import EmulatorConfig
from stripe_emulator.faults import FaultBook
from stripe_emulator.idempotency import IdempotencyKeys
from stripe_emulator.state import Store
from stripe_emulator.webhooks import WebhookHub


class Emulator:
    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.store = Store(config)
        self.keys = IdempotencyKeys()
        self.faults = FaultBook(config.default_fault_delay)
        self.webhooks = WebhookHub(self.store, self.faults, config)
        self._add_configured_endpoint()

    def _add_configured_endpoint(self) -> None:
        if self.config.webhook_url:
            self.register_webhook_endpoint(self.config.webhook_url, self.config.webhook_secret,
                                           tuple(self.config.webhook_events))

    def register_webhook_endpoint(self, url: str, secret: str | None = None,
                                  enabled_events: tuple[str, ...] = ("*",)) -> dict[str, object]:
        signing_secret = secret or self.config.webhook_secret
        if not signing_secret:
            raise ValueError("a webhook endpoint needs a signing secret")
        return self.webhooks.add_endpoint(url, signing_secret, tuple(enabled_events))

    def reset(self) -> None:
        """Forget everything but the configuration (the constructor's endpoint stays)."""
        self.webhooks.reset()
        self.store.reset()
        self.keys.reset()
        self.faults.reset()
        self._add_configured_endpoint()

    def close(self) -> None:
        self.webhooks.stop()
        self.store.reset()
