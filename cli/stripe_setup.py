"""``checkout-saga stripe setup-webhooks --url URL`` (CONTRACT §1 v2): the Stripe webhook
endpoint for URL, subscribed to exactly the event types the product handles; prints its
secret (Stripe shows it only when the endpoint is created)."""

from __future__ import annotations

import json
import sys
import urllib.request

import stripe

from adapters.stripe_webhook_setup import setup_webhook_endpoint
from checkout_saga.stripe_events import HANDLED_EVENT_TYPES

EMULATOR_API_KEY = "sk_test_emulator"

NO_KEY = ("STRIPE_SECRET_KEY is not set: point STRIPE_SECRET_KEY/STRIPE_API_BASE at Stripe "
          "(or at a running `checkout-saga stripe-emulator`)")


def add_parser(sub) -> None:
    stripe_cmd = sub.add_parser("stripe", help="set up this service at Stripe")
    ssub = stripe_cmd.add_subparsers(dest="stripe_command", required=True)
    setup = ssub.add_parser("setup-webhooks", help="create or update the webhook endpoint for URL")
    setup.add_argument("--url", required=True,
                       help="where Stripe sends events, e.g. https://shop.example.com/webhooks/stripe")


def run(args, settings) -> int:
    if not settings.stripe_secret_key:
        sys.stderr.write(f"checkout-saga: {NO_KEY}\n")
        return 2
    try:
        result = setup_webhook_endpoint(args.url, api_key=settings.stripe_secret_key,
                                        api_base=settings.stripe_api_base)
    except stripe.StripeError as exc:
        sys.stderr.write(f"checkout-saga: Stripe refused the webhook endpoint: "
                         f"{type(exc).__name__}: {exc.user_message or exc}\n")
        return 1
    if settings.log_format == "json":  # in json mode every line a process writes is JSON
        sys.stdout.write(json.dumps({
            "event": "stripe_webhook_endpoint", "endpoint_id": result.endpoint_id,
            "url": result.url, "created": result.created,
            "enabled_events": list(result.enabled_events), "secret": result.secret}) + "\n")
        return 0
    verb = "created" if result.created else "updated"
    lines = [f"webhook endpoint {result.endpoint_id} {verb} for {result.url}",
             f"enabled events ({len(result.enabled_events)}): {', '.join(result.enabled_events)}"]
    if result.secret:
        lines.append(f"secret: {result.secret}")
        lines.append("(set STRIPE_WEBHOOK_SECRET to it)")
    else:
        lines.append("secret: unchanged (Stripe shows it only at creation; "
                     "STRIPE_WEBHOOK_SECRET stays valid)")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def register_with_emulator(emulator_base_url: str, url: str, configured_secret: str | None) -> str:
    """The built-in emulator (in this process or its own) subscribed like Stripe: through the
    SDK's WebhookEndpoints with exactly the handled types, its secret then the product's. A
    configured ``STRIPE_WEBHOOK_SECRET`` is kept (Stripe cannot be told a secret, the
    emulator's control route can): the endpoint is registered there, with the same types."""
    if configured_secret:
        body = json.dumps({"url": url, "secret": configured_secret,
                           "enabled_events": list(HANDLED_EVENT_TYPES)}).encode()
        request = urllib.request.Request(f"{emulator_base_url}/_emulator/webhook_endpoints",
                                         data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - the emulator on loopback
            pass
        return configured_secret
    result = setup_webhook_endpoint(url, api_key=EMULATOR_API_KEY, api_base=emulator_base_url)
    if not result.secret:
        raise RuntimeError("the emulator created a webhook endpoint without a secret")
    return result.secret
