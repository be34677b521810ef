"""What the console shows and does: the operator commands recorded with the key id and note,
the dashboard, queue, timeline, payments, reconciliation and outbox pages, escaping, and no
secret rendered."""

from __future__ import annotations

import json

from api.auth import key_id
from tests.integration.api_support import ADMIN_KEY, STORE, STORE_KEY
from tests.integration.console.support import csrf_of, needing_attention, resolve_form, start

# --- the operator commands --------------------------------------------------------------


def test_resolve_from_the_console_is_recorded_with_the_operators_key_id_and_note(
        system, gateway, clock, operator):
    checkout_id = needing_attention(system, gateway, clock)
    token = csrf_of(operator.get(f"/console/checkouts/{checkout_id}").text)

    response = resolve_form(operator, checkout_id, "refunded by hand", token)

    assert response.status_code == 303
    events = operator.get(f"/checkouts/{checkout_id}/events", headers=STORE).json()["events"]
    resolved = [e for e in events if e["type"] == "CheckoutResolved"]
    assert len(resolved) == 1
    assert resolved[0]["data"]["cause"] == {"kind": "operator", "ref": None,
                                            "actor": key_id(ADMIN_KEY), "note": "refunded by hand"}


def test_resolve_without_a_note_is_refused(system, gateway, clock, operator):
    checkout_id = needing_attention(system, gateway, clock)
    token = csrf_of(operator.get(f"/console/checkouts/{checkout_id}").text)

    response = resolve_form(operator, checkout_id, "   ", token)

    assert response.status_code == 422 and "note is required" in response.text
    assert system.checkouts.get(checkout_id).status == "needs_attention"


def test_retry_from_the_console_reruns_the_failed_compensation(system, gateway, clock, operator):
    checkout_id = needing_attention(system, gateway, clock)
    token = csrf_of(operator.get(f"/console/checkouts/{checkout_id}").text)

    response = operator.post(f"/console/checkouts/{checkout_id}/retry",
                             data={"_csrf_token": token, "note": "stripe is back"},
                             follow_redirects=False)

    assert response.status_code == 303
    assert system.checkouts.get(checkout_id).status == "cancelled"
    retried = [e for e in system.checkouts.history(checkout_id)
               if type(e).__name__ == "OperatorRetryRequested"]
    assert retried[0].cause.actor == key_id(ADMIN_KEY) and retried[0].cause.note == "stripe is back"


def test_a_command_the_checkout_refuses_is_an_error_page_with_the_apis_status(system, operator):
    paid = start(system, "cs_console_paid")
    token = csrf_of(operator.get("/console").text)

    response = resolve_form(operator, paid.checkout_id, "nothing to resolve", token)

    assert response.status_code == 409
    assert "only a needs_attention checkout can be resolved" in response.text


# --- what the pages show ----------------------------------------------------------------


def test_the_queue_lists_checkouts_needing_attention_with_retry_andresolve_form(
        system, gateway, clock, operator):
    checkout_id = needing_attention(system, gateway, clock)
    system.read_models.catch_up()

    page = operator.get("/console/checkouts").text

    assert checkout_id in page
    assert f'/console/checkouts/{checkout_id}/retry' in page
    assert f'/console/checkouts/{checkout_id}/resolve' in page


def test_the_dashboard_counts_checkouts_by_status_and_draws_the_last_hour(system, operator):
    start(system, "cs_console_1")
    start(system, "cs_console_2", payment_method=None)
    system.read_models.catch_up()

    page = operator.get("/console").text

    assert 'id="by-status"' in page and "completed" in page and "awaiting_payment" in page
    assert page.count('<rect class="bar"') == 60
    assert "2 started" in page
    assert "units reserved for unpaid checkouts" in page and "MUG" in page


def test_the_timeline_shows_every_event_in_order_with_its_cause_and_state_at_a_version(system, operator):
    checkout = start(system, "cs_console_timeline")
    history = system.checkouts.history(checkout.checkout_id)

    page = operator.get(f"/console/checkouts/{checkout.checkout_id}?at_version=1").text

    shown = [page.index(f'data-version="{e.originator_version}" data-type="{type(e).__name__}"')
             for e in history]
    assert shown == sorted(shown) and len(shown) == len(history)
    assert "API request" in page and "req_test" in page
    assert "State at version 1 of" in page


def test_no_client_secret_or_key_is_rendered(system, operator):
    checkout = start(system, "cs_console_secret")
    assert checkout.client_secret

    page = operator.get(f"/console/checkouts/{checkout.checkout_id}").text

    assert checkout.client_secret not in page and "[redacted]" in page
    assert ADMIN_KEY not in page and STORE_KEY not in page


def test_what_a_customer_typed_is_escaped(system, operator):
    checkout = start(system, "cs_console_xss", email="<script>alert(1)</script>@example.com")

    page = operator.get(f"/console/checkouts/{checkout.checkout_id}").text

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_payments_search_finds_a_payment_by_its_intent_id(system, operator):
    checkout = start(system, "cs_console_pay")
    system.read_models.catch_up()

    page = operator.get("/console/payments", params={"q": checkout.payment_intent_id}).text

    assert checkout.checkout_id in page and "capture" in page and "authorization" in page


def test_the_reconciliation_page_says_when_none_has_run(operator):
    assert "No reconciliation has run yet" in operator.get("/console/reconciliation").text


def test_the_reconciliation_page_lists_the_latest_reports_discrepancies(system, operator):
    report = {"report_id": "rec_1", "started_at": "2026-11-22T10:00:00Z",
              "finished_at": "2026-11-22T10:00:01Z", "intents_checked": 3,
              "discrepancies_by_type": {"amount_mismatch": 1},
              "discrepancies": [{"type": "amount_mismatch", "fix": "needs_attention",
                                 "detail": "Stripe says 999, the ledger 1250",
                                 "payment_intent_id": "pi_9", "checkout_id": "chk_9",
                                 "outcome": "needs_attention"}]}
    with system.read_models.db.write() as tx:
        tx.execute("INSERT INTO reconciliation_reports (report_id, created_at, report) VALUES (?, ?, ?)",
                   ("rec_1", "2026-11-22T10:00:01.000000Z", json.dumps(report)))

    page = operator.get("/console/reconciliation").text

    assert "rec_1" in page and "amount_mismatch" in page and "Stripe says 999, the ledger 1250" in page
    assert "/console/checkouts/chk_9" in page


def test_the_outbox_page_lists_notifications_with_their_state_escaped(system, operator):
    from datetime import UTC, datetime

    from checkout_saga.notifications import MailIntent

    system.notifications.outbox.add([MailIntent(
        id="ntf_console_1", template="order_confirmation", to="ada@example.com",
        cause="order:1", context={})], datetime(2026, 11, 22, 10, 0, tzinfo=UTC))
    system.notifications.outbox.mark_failed("ntf_console_1", "smtp <down>",
                                            datetime(2026, 11, 22, 10, 5, tzinfo=UTC))

    page = operator.get("/console/outbox", params={"status": "failed"}).text

    assert "ntf_console_1" in page and "order_confirmation" in page
    assert "smtp &lt;down&gt;" in page and "smtp <down>" not in page


def test_an_unknown_checkout_is_a_not_found_page(operator):
    response = operator.get("/console/checkouts/chk_00")

    assert response.status_code == 404 and "text/html" in response.headers["content-type"]
