"""The page a `redirect_to_url` next action points at: a stand-in for the bank's
3-D Secure challenge, so a developer clicking through `make run` can finish a payment.
Its buttons post to the authenticate control route, which then redirects to the
intent's `return_url` the way Stripe does."""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import urlencode

Json = dict[str, Any]


_ROUTES = {"payment_intent": "payment_intents", "setup_intent": "setup_intents"}


def challenge_page(intent: Json) -> bytes:
    """For a PaymentIntent or a SetupIntent (which has no amount)."""
    intent_id = html.escape(intent["id"])
    action = f"/_emulator/{_ROUTES[intent['object']]}/{intent_id}/authenticate"
    buttons = "".join(
        f'<form method="post" action="{action}"><input type="hidden" name="outcome" value="{outcome}">'
        f'<button type="submit">{label}</button></form>'
        for outcome, label in (
            ("succeed", "Complete authentication"),
            ("fail", "Fail authentication"),
        )
    )
    if "amount" in intent:
        what = f"Payment {intent_id} for {intent['amount']} {html.escape(intent['currency'])}"
    else:
        what = f"Saving a card ({intent_id})"
    return (
        "<!doctype html><html><head><title>3-D Secure (Stripe emulator)</title></head><body>"
        f"<h1>3-D Secure test page</h1><p>{what}.</p>{buttons}</body></html>"
    ).encode()


def return_url_of(intent: Json) -> str | None:
    """Read before authenticating: finishing the challenge clears `next_action`."""
    action = intent.get("next_action") or {}
    return (action.get("redirect_to_url") or {}).get("return_url")


def return_location(intent: Json, return_url: str) -> str:
    """Where the browser goes after the challenge, with Stripe's query parameters."""
    status = "succeeded" if intent["status"] in ("requires_capture", "succeeded") else "failed"
    kind = intent["object"]
    query = urlencode(
        {
            kind: intent["id"],
            f"{kind}_client_secret": intent["client_secret"],
            "redirect_status": status,
        }
    )
    separator = "&" if "?" in return_url else "?"
    return f"{return_url}{separator}{query}"
