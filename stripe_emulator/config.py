"""Knobs of the emulator, gathered in one value so the app and the server share them.

Every delay is configurable because tests want them short and a developer running
`make run` wants them close to Stripe's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

API_VERSION = "2026-10-28.endive"
"""The API version stamped on events: the one the pinned stripe SDK speaks."""


@dataclass(frozen=True, kw_only=True)
class EmulatorConfig:
    """How the emulator behaves; the defaults suit development."""

    webhook_secret: str | None = None
    webhook_url: str | None = None
    webhook_events: tuple[str, ...] = ("*",)
    """The event types the configured endpoint (``webhook_url``) is subscribed to."""
    webhook_retry_base_delay: float = 0.5
    webhook_retry_max_delay: float = 30.0
    webhook_max_attempts: int = 8
    webhook_timeout: float = 10.0
    reorder_hold_seconds: float = 5.0
    """How long a webhook held back by `reorder_webhooks` waits for a successor."""
    refund_failure_delay: float = 0.5
    """Delay before a `pm_card_refundFail` refund moves from pending to failed."""
    default_fault_delay: float = 5.0
    """How long a `timeout` fault holds the reply unless the fault says otherwise."""
    clock: Callable[[], float] = field(default=time.time)
