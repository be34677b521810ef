"""Outbound webhooks: POST the recorded body to the endpoint, signed like Stripe's scheme —
``CheckoutSaga-Signature: t=<unix>,v1=<hex hmac_sha256(secret, "<t>.<raw body>")>`` — with
short timeouts, no redirects followed; anything but a 2xx is a failure to retry."""

from __future__ import annotations

import hashlib
import hmac

import httpx

from checkout_saga.notification_ports import SendError

SIGNATURE_HEADER = "CheckoutSaga-Signature"
TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def signature(secret: str, body: bytes, at_unix: int) -> str:
    mac = hmac.new(secret.encode(), f"{at_unix}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at_unix},v1={mac}"


class HttpWebhookSender:
    """Implements ``WebhookSender`` with httpx (already a dependency of the HTTP stack)."""

    def __init__(self, timeout: httpx.Timeout = TIMEOUT) -> None:
        self.client = httpx.Client(timeout=timeout, follow_redirects=False,
                                   headers={"User-Agent": "checkout-saga-webhooks/1"})

    def deliver(self, url: str, secret: str, body: bytes, at_unix: int) -> None:
        try:
            response = self.client.post(url, content=body, headers={
                "Content-Type": "application/json", SIGNATURE_HEADER: signature(secret, body, at_unix)})
        except httpx.HTTPError as exc:
            raise SendError(f"{type(exc).__name__}: {str(exc)[:200]}") from None
        if not 200 <= response.status_code < 300:
            raise SendError(f"HTTP {response.status_code}")

    def close(self) -> None:
        self.client.close()
