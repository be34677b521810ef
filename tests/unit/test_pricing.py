"""Tax and shipping: exact integer arithmetic, rounded half up, fixed per checkout."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from checkout_saga.pricing import Pricing, parse_rate, round_half_up, shipping_for


@pytest.mark.parametrize(("subtotal", "rate", "tax"), [
    (3998, "0.1", 400),      # 399.8 → 400
    (5, "0.1", 1),           # 0.5 → 1 (half up)
    (15, "0.1", 2),          # 1.5 → 2
    (25, "0.1", 3),          # 2.5 → 3 (not banker's 2)
    (4, "0.1", 0),           # 0.4 → 0
    (1000, "0.0825", 83),    # 82.5 → 83
    (999, "0.0825", 82),     # 82.4175 → 82
    (3998, "0", 0),
    (0, "0.2", 0),
    (1999, "1", 1999),
])
def test_tax_is_the_subtotal_times_the_rate_rounded_half_up(subtotal, rate, tax):
    assert Pricing(tax_rate=rate).quote(subtotal).tax == tax


def test_a_rate_that_a_float_would_get_wrong_is_exact():
    # 0.145 * 100 is 14.499999999999998 in binary floating point; exactly it is 14.5 → 15
    assert Pricing(tax_rate="0.145").quote(100).tax == 15


@given(st.integers(0, 10**11), st.integers(0, 10**6))
def test_rounding_half_up_matches_exact_fractions(subtotal, rate_millionths):
    from fractions import Fraction

    exact = Fraction(subtotal * rate_millionths, 10**6)
    tax = round_half_up(subtotal * rate_millionths, 10**6)
    assert exact - Fraction(1, 2) < tax <= exact + Fraction(1, 2)


def test_free_shipping_starts_exactly_at_the_threshold():
    assert shipping_for(4999, 500, 5000) == 500
    assert shipping_for(5000, 500, 5000) == 0
    assert shipping_for(5001, 500, 5000) == 0


def test_without_a_threshold_shipping_is_always_flat():
    assert shipping_for(10**9, 500, None) == 500


def test_the_total_is_subtotal_plus_tax_plus_shipping():
    amounts = Pricing(tax_rate="0.1", shipping_amount=499, free_shipping_over=10000).quote(3998)

    assert (amounts.subtotal, amounts.tax, amounts.shipping, amounts.total) == (3998, 400, 499, 4897)


@pytest.mark.parametrize("text", ["abc", "-0.1", "1.5", "NaN", "Infinity", "", "0.1.2"])
def test_a_rate_that_is_not_a_fraction_between_0_and_1_is_refused(text):
    with pytest.raises(ValueError):
        parse_rate(text)


def test_a_rate_parses_to_an_exact_ratio():
    assert parse_rate("0.0825") == (33, 400)
    assert parse_rate("0") == (0, 1)
