"""Stripe's webhook signature: `t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<payload>")>`.

Verifiable with `stripe.Webhook.construct_event(payload, header, secret)`.
"""

from __future__ import annotations

import hashlib
import hmac


def signature_header(payload: str, secret: str, timestamp: int) -> str:
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.{payload}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"
