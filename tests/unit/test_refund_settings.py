"""CHECKOUT_SAGA_REFUND_WINDOW_DAYS and CHECKOUT_SAGA_REFUND_APPROVAL_ABOVE (CONTRACT §1 v2):
defaults, values, and a bad value naming its variable."""

from __future__ import annotations

import pytest

from adapters.settings import ConfigError, load_settings


def settings(**env):
    return load_settings(environ=env, dotenv=None)


def test_by_default_refunds_are_allowed_for_90_days_and_none_wait_for_approval():
    loaded = settings()

    assert (loaded.refund_window_days, loaded.refund_approval_above) == (90, None)


def test_the_window_and_the_threshold_are_read_from_the_environment():
    loaded = settings(CHECKOUT_SAGA_REFUND_WINDOW_DAYS="0", CHECKOUT_SAGA_REFUND_APPROVAL_ABOVE="50000")

    assert (loaded.refund_window_days, loaded.refund_approval_above) == (0, 50000)


@pytest.mark.parametrize("variable, value", [
    ("CHECKOUT_SAGA_REFUND_WINDOW_DAYS", "ninety"),
    ("CHECKOUT_SAGA_REFUND_WINDOW_DAYS", "-1"),
    ("CHECKOUT_SAGA_REFUND_APPROVAL_ABOVE", "1.5"),
])
def test_a_bad_value_stops_start_up_naming_its_variable(variable, value):
    with pytest.raises(ConfigError) as bad:
        settings(**{variable: value})

    assert bad.value.variable == variable
