"""Helpers of the console tests: a shop with a checkout that needs attention, and the console's
forms posted as a browser would (CSRF token and all) with litestar's TestClient."""

from __future__ import annotations

import re

from checkout_saga.commands import CartLine, StartCheckout
from events.base import Cause

CSRF_FIELD = re.compile(r'name="_csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF_FIELD.search(html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def log_in(client, key: str, next_path: str = "/console"):
    token = csrf_of(client.get("/console/login").text)
    return client.post("/console/login", data={"_csrf_token": token, "key": key, "next": next_path},
                       follow_redirects=False)


def seed_shop(system) -> None:
    system.catalog.set_seller("acct_1", charges_enabled=True)
    system.catalog.upsert_product(sku="MUG", name="Mug", unit_amount=1250, currency="usd",
                                  seller_id="acct_1", active=True)
    system.catalog.adjust_stock("MUG", 5, "initial")


def start(system, session: str, payment_method: str | None = "pm_card_visa",
          email: str = "ada@example.com"):
    return system.checkouts.start_checkout(StartCheckout(
        checkout_session_id=session, currency="usd", items=(CartLine(sku="MUG", quantity=1),),
        customer_id="cus_1", customer_email=email, payment_method=payment_method,
        return_url=None), Cause(kind="request", ref="req_test")).checkout


def needing_attention(system, gateway, clock, session: str = "cs_console_stuck") -> str:
    """An unpaid checkout whose cancel keeps failing at the provider until it escalates."""
    checkout = start(system, session, payment_method=None)
    gateway.inject("cancel", "error_500", times=5)
    system.checkouts.cancel(checkout.checkout_id, "customer left", Cause(kind="request"))
    for _ in range(20):
        if system.checkouts.get(checkout.checkout_id).status == "needs_attention":
            break
        clock.advance(hours=1)
        system.checkouts.resume(checkout.checkout_id)
    assert system.checkouts.get(checkout.checkout_id).status == "needs_attention"
    return checkout.checkout_id


def resolve_form(client, checkout_id: str, note: str, token: str | None):
    data = {"note": note} | ({"_csrf_token": token} if token is not None else {})
    return client.post(f"/console/checkouts/{checkout_id}/resolve", data=data, follow_redirects=False)
