"""Stripe-looking identifiers: a type prefix and random characters."""

from __future__ import annotations

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits


def random_token(length: int = 24) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def new_id(prefix: str) -> str:
    """`new_id("pi")` -> `pi_3Q...`: opaque, unique, and recognisable by its prefix."""
    return f"{prefix}_{random_token()}"
