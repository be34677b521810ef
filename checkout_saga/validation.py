"""Validation of commands, field by field, before anything is recorded."""

from __future__ import annotations

import re

from checkout_saga.addresses import address_problems
from checkout_saga.commands import StartCheckout
from checkout_saga.errors import ValidationError

SESSION_ID = re.compile(r"[A-Za-z0-9_-]{8,128}")
CURRENCY = re.compile(r"[a-z]{3}")
MAX_LINES = 100
MAX_QUANTITY = 1000


def validate_start(cmd: StartCheckout) -> None:
    problems: list[tuple[str, str]] = []
    if not SESSION_ID.fullmatch(cmd.checkout_session_id or ""):
        problems.append(("checkout_session_id", "must be 8-128 characters of A-Z a-z 0-9 _ -"))
    if cmd.currency is not None and not CURRENCY.fullmatch(cmd.currency):
        problems.append(("currency", "must be a lower-case ISO 4217 code"))
    if not cmd.items:
        problems.append(("items", "must have at least one line"))
    if len(cmd.items) > MAX_LINES:
        problems.append(("items", f"must have at most {MAX_LINES} lines"))
    seen: set[str] = set()
    for i, line in enumerate(cmd.items):
        if not line.sku:
            problems.append((f"items[{i}].sku", "must not be empty"))
        if line.sku in seen:
            problems.append((f"items[{i}].sku", f"duplicate sku {line.sku}"))
        seen.add(line.sku)
        if not 1 <= line.quantity <= MAX_QUANTITY:
            problems.append((f"items[{i}].quantity", f"must be between 1 and {MAX_QUANTITY}"))
    problems += address_problems("shipping_address", cmd.shipping_address)
    problems += address_problems("billing_address", cmd.billing_address)
    if problems:
        raise ValidationError(problems)
