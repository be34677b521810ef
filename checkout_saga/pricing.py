"""What a checkout costs beyond its lines: tax and shipping, from a ``Pricing`` policy.

Integer arithmetic only. The tax rate is an exact fraction parsed from its decimal text
(``"0.0825"`` is 825/10000), never a float, and the tax is rounded half up to the minor unit.
The amounts are fixed in the checkout's first event; a later change of policy never alters
an existing checkout."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import msgspec


class Amounts(msgspec.Struct, frozen=True, kw_only=True):
    subtotal: int
    tax: int
    shipping: int

    @property
    def total(self) -> int:
        return self.subtotal + self.tax + self.shipping


@dataclass(frozen=True)
class Pricing:
    """The shop's pricing policy (CONTRACT §1 v2 settings)."""

    default_currency: str = "usd"
    tax_rate: str = "0"  # decimal text, exact
    shipping_amount: int = 0
    free_shipping_over: int | None = None

    def __post_init__(self) -> None:
        parse_rate(self.tax_rate)  # a policy never holds an unusable rate

    def quote(self, subtotal: int) -> Amounts:
        numerator, denominator = parse_rate(self.tax_rate)
        return Amounts(subtotal=subtotal,
                       tax=round_half_up(subtotal * numerator, denominator),
                       shipping=shipping_for(subtotal, self.shipping_amount, self.free_shipping_over))


def parse_rate(text: str) -> tuple[int, int]:
    """``"0.1"`` → ``(1, 10)``: a decimal fraction between 0 and 1 as an exact ratio."""
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, AttributeError):
        raise ValueError(f"must be a decimal fraction such as 0.1, got {text!r}") from None
    if not value.is_finite() or value < 0 or value > 1:
        raise ValueError(f"must be a decimal fraction between 0 and 1, got {text!r}")
    return value.as_integer_ratio()


def round_half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded to the nearest integer, halves away from zero
    (both non-negative here)."""
    if numerator < 0 or denominator <= 0:
        raise ValueError("round_half_up takes a non-negative numerator and a positive denominator")
    return (2 * numerator + denominator) // (2 * denominator)


def shipping_for(subtotal: int, flat: int, free_over: int | None) -> int:
    """Flat shipping, free at or above the threshold when there is one."""
    if free_over is not None and subtotal >= free_over:
        return 0
    return flat


def format_rate(text: str) -> str:
    """``"0.0825"`` → ``"8.25%"`` (for documents)."""
    return format((Decimal(text.strip()) * 100).normalize(), "f") + "%"
