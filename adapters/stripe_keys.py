"""Stripe idempotency keys as HTTP can carry them: a key is sent in the ``Idempotency-Key``
header, which takes printable ASCII, and Stripe takes at most 255 characters. Keys are built
from our ids (a shop's customer id may hold any non-control character, a request key up to
255), so a key that does not fit is sent as its SHA-256 instead: the same key always gives the
same header, so a retry still meets its first attempt; a key that fits is sent unchanged."""

from __future__ import annotations

import hashlib
import re

_FITS = re.compile(r"[ -~]{1,255}")


def stripe_idempotency_key(key: str) -> str:
    if _FITS.fullmatch(key):
        return key
    return "sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()
