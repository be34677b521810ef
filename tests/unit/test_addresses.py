"""Addresses are validated field by field, each problem naming its field."""

from __future__ import annotations

import pytest

from checkout_saga.addresses import COUNTRIES, address_problems
from events.documents import Address

GOOD = dict(name="Ada Lovelace", line1="12 St James's Sq", city="London", postal_code="SW1Y 4JH",
            country="GB")


def test_a_complete_address_has_no_problems():
    assert address_problems("shipping_address", Address(**GOOD)) == []


def test_no_address_is_no_problem():
    assert address_problems("billing_address", None) == []


@pytest.mark.parametrize("field", ["name", "line1", "city", "postal_code"])
def test_a_blank_required_field_is_named(field):
    problems = address_problems("shipping_address", Address(**{**GOOD, field: "  "}))

    assert [f for f, _ in problems] == [f"shipping_address.{field}"]


@pytest.mark.parametrize("country", ["gb", "UK", "XX", "GBR", ""])
def test_a_country_must_be_an_upper_case_iso_alpha_2_code(country):
    problems = address_problems("billing_address", Address(**{**GOOD, "country": country}))

    assert [f for f, _ in problems] == ["billing_address.country"]


def test_every_problem_is_reported_at_once():
    bad = Address(name="", line1="", city="", postal_code="", country="zz")

    assert len(address_problems("shipping_address", bad)) == 5


def test_the_country_list_holds_the_249_assigned_codes():
    assert len(COUNTRIES) == 249 and {"US", "DE", "GB", "JP", "AX", "SS"} <= COUNTRIES
