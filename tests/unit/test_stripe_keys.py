"""Stripe idempotency keys fit an HTTP header and Stripe's 255 characters."""

from __future__ import annotations

from adapters.stripe_keys import stripe_idempotency_key


def test_a_key_that_fits_is_sent_unchanged():
    assert stripe_idempotency_key("customer:cus_42:create") == "customer:cus_42:create"


def test_a_key_with_other_characters_or_too_long_is_sent_as_its_stable_digest():
    for key in ("customer:\u023eu\u00fc:create", "customer:\x07:create", "k" * 256):
        sent = stripe_idempotency_key(key)
        assert sent == stripe_idempotency_key(key) and sent.startswith("sha256:")
        assert sent.isascii() and sent.isprintable() and len(sent) <= 255
    assert stripe_idempotency_key("customer:\u00e9:create") != stripe_idempotency_key("customer:e:create")
