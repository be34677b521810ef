"""The console's pure pieces: the per-minute chart's geometry, the timeline's causes and
redaction, and where a login may send the operator afterwards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from api.console.actions import _safe_next
from api.console.chart import HEIGHT, per_minute_chart
from api.console.timeline import REDACTED, cause_view, redacted, timeline
from events.base import Cause
from events.checkout import CheckoutResolved, PaymentIntentCreated

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def test_the_busiest_minute_fills_the_chart_and_an_empty_minute_draws_nothing():
    series = [(T0 + timedelta(minutes=i), count) for i, count in enumerate([0, 2, 4])]

    chart = per_minute_chart(series)

    heights = [bar.height for bar in chart.bars]
    assert heights[0] == 0 and heights[2] > heights[1] > 0
    assert heights[2] == HEIGHT - 20 - 12
    assert (chart.peak, chart.total, chart.first, chart.last) == (4, 6, "10:00", "10:02")


def test_an_hour_without_checkouts_is_a_flat_chart():
    chart = per_minute_chart([(T0 + timedelta(minutes=i), 0) for i in range(60)])

    assert len(chart.bars) == 60 and all(bar.height == 0 for bar in chart.bars)
    assert chart.total == 0


def test_secrets_are_redacted_however_deep():
    value = {"client_secret": "pi_1_secret_2", "nested": [{"webhook_secret": "whsec_x"}],
             "payment_intent_id": "pi_1", "no_secret_here": None}

    assert redacted(value) == {"client_secret": REDACTED, "nested": [{"webhook_secret": REDACTED}],
                               "payment_intent_id": "pi_1", "no_secret_here": None}


def test_each_cause_reads_as_what_made_the_event_happen():
    assert cause_view(Cause(kind="webhook", ref="evt_1")).label == "Stripe event"
    assert cause_view(Cause(kind="timer", ref="reservation_expiry")).label == "timer"
    operator = cause_view(Cause(kind="operator", actor="key_abc", note="refunded"))
    assert (operator.label, operator.actor, operator.note) == ("operator", "key_abc", "refunded")
    assert cause_view(None).kind == "unknown"


def test_the_timeline_is_in_version_order_without_the_client_secret():
    stream = uuid4()
    created = PaymentIntentCreated(originator_id=stream, originator_version=1, occurred_at=T0,
                                   cause=Cause(kind="request", ref="req_1"),
                                   payment_intent_id="pi_1", client_secret="pi_1_secret_x",
                                   status="requires_payment_method")
    resolved = CheckoutResolved(originator_id=stream, originator_version=2,
                                occurred_at=T0 + timedelta(hours=1),
                                cause=Cause(kind="operator", actor="key_abc", note="done"),
                                note="done")

    entries = timeline([resolved, created])

    assert [(e.version, e.type) for e in entries] == [(1, "PaymentIntentCreated"),
                                                      (2, "CheckoutResolved")]
    assert entries[0].data["client_secret"] == REDACTED
    assert entries[1].cause.actor == "key_abc" and entries[1].occurred_at == "2026-11-22 11:00:00.000Z"


def test_after_login_only_a_console_path_is_followed():
    assert _safe_next("/console/checkouts?status=processing") == "/console/checkouts?status=processing"
    for elsewhere in (None, "", "https://evil.example/", "//evil.example", "/orders", "/consolex", "/console/\\evil"):
        assert _safe_next(elsewhere) == "/console"
