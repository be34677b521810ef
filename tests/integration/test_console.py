"""The operator console through litestar's TestClient on the real read models: login and the
session cookie, CSRF on every form (and only on the console), escaping, no secret rendered,
the operator commands recorded with the key id, and the pages for features not built yet."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.auth import key_id
from tests.conftest import system_for
from tests.integration.api_support import ADMIN, ADMIN_KEY, STORE, STORE_KEY, api_settings
from tests.integration.console_support import csrf_of, log_in, needing_attention, seed_shop, start


@pytest.fixture
def system(store, gateway, clock, database_url):
    system = system_for(store, gateway, clock, settings=api_settings(database_url))
    seed_shop(system)
    yield system
    system.close()


@pytest.fixture
def browser(system):
    """A client that keeps cookies, as a browser does; not logged in."""
    with TestClient(create_app(system)) as client:
        yield client


@pytest.fixture
def operator(browser):
    assert log_in(browser, ADMIN_KEY).status_code == 303
    return browser


def _resolve(client, checkout_id: str, note: str, token: str | None):
    data = {"note": note} | ({"_csrf_token": token} if token is not None else {})
    return client.post(f"/console/checkouts/{checkout_id}/resolve", data=data, follow_redirects=False)


# --- signing in -------------------------------------------------------------------------


def test_every_console_page_redirects_to_the_login_page_without_a_session(browser):
    for path in ("/console", "/console/checkouts", "/console/checkouts/chk_00", "/console/payments",
                 "/console/reconciliation", "/console/outbox"):
        response = browser.get(path, follow_redirects=False)

        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/console/login?next=")


def test_an_admin_key_signs_in_with_an_httponly_same_site_strict_cookie_that_holds_no_key(browser):
    response = log_in(browser, ADMIN_KEY)

    assert response.status_code == 303 and response.headers["location"] == "/console"
    cookie = next(c for c in response.headers.get_list("set-cookie")
                  if c.startswith("checkout_saga_console="))
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/console"} <= attributes
    assert not any(a.startswith("domain=") for a in attributes)  # this host only
    assert ADMIN_KEY not in cookie and key_id(ADMIN_KEY) not in cookie  # encrypted
    page = browser.get("/console")
    assert page.status_code == 200 and key_id(ADMIN_KEY) in page.text
    assert ADMIN_KEY not in page.text


def test_a_wrong_key_or_a_storefront_key_does_not_sign_in(browser):
    for key in ("sk_not_a_key_at_all_000", STORE_KEY):
        response = log_in(browser, key)

        assert response.status_code == 401
        assert "not an admin key" in response.text
        assert browser.get("/console", follow_redirects=False).status_code == 303


def test_after_login_the_operator_goes_back_to_the_page_asked_for_but_never_to_another_site(browser):
    assert log_in(browser, ADMIN_KEY, "/console/outbox").headers["location"] == "/console/outbox"
    browser.cookies.clear()
    for elsewhere in ("https://evil.example/console", "//evil.example/console", "/api"):
        assert log_in(browser, ADMIN_KEY, elsewhere).headers["location"] == "/console"
        browser.cookies.clear()


def test_logging_out_ends_the_session(operator):
    token = csrf_of(operator.get("/console").text)

    response = operator.post("/console/logout", data={"_csrf_token": token}, follow_redirects=False)

    assert response.status_code == 303
    assert operator.get("/console", follow_redirects=False).status_code == 303


def test_a_session_ends_when_its_admin_key_is_removed(system, operator):
    cookies = dict(operator.cookies)
    rotated = replace(system, settings=replace(system.settings,
                                               admin_keys=("sk_admin_rotated_0123456",)))
    with TestClient(create_app(rotated), cookies=cookies) as other:
        assert other.get("/console", follow_redirects=False).status_code == 303


# --- CSRF -------------------------------------------------------------------------------


def test_a_post_without_the_csrf_token_is_forbidden_and_changes_nothing(system, gateway, clock, operator):
    checkout_id = needing_attention(system, gateway, clock)

    response = _resolve(operator, checkout_id, "refunded by hand", token=None)

    assert response.status_code == 403
    assert system.checkouts.get(checkout_id).status == "needs_attention"


def test_a_post_with_a_wrong_csrf_token_is_forbidden(system, gateway, clock, operator):
    checkout_id = needing_attention(system, gateway, clock)

    response = _resolve(operator, checkout_id, "refunded by hand", token="0" * 128)

    assert response.status_code == 403
    assert system.checkouts.get(checkout_id).status == "needs_attention"


def test_the_login_form_needs_its_csrf_token_too(browser):
    browser.get("/console/login")

    response = browser.post("/console/login", data={"key": ADMIN_KEY}, follow_redirects=False)

    assert response.status_code == 403


def test_csrf_applies_to_the_console_only_not_to_the_json_api(system, gateway, clock):
    checkout_id = needing_attention(system, gateway, clock)
    with TestClient(create_app(system)) as api:
        response = api.post(f"/ops/checkouts/{checkout_id}/resolve", json={"note": "by API"},
                            headers=ADMIN)

    assert response.status_code == 200, response.text
    assert "csrf" not in response.headers.get("set-cookie", "").lower()


# --- the operator commands --------------------------------------------------------------


def test_resolve_from_the_console_is_recorded_with_the_operators_key_id_and_note(
        system, gateway, clock, operator):
    checkout_id = needing_attention(system, gateway, clock)
    token = csrf_of(operator.get(f"/console/checkouts/{checkout_id}").text)

    response = _resolve(operator, checkout_id, "refunded by hand", token)

    assert response.status_code == 303
    events = operator.get(f"/checkouts/{checkout_id}/events", headers=STORE).json()["events"]
    resolved = [e for e in events if e["type"] == "CheckoutResolved"]
    assert len(resolved) == 1
    assert resolved[0]["data"]["cause"] == {"kind": "operator", "ref": None,
                                            "actor": key_id(ADMIN_KEY), "note": "refunded by hand"}


def test_resolve_without_a_note_is_refused(system, gateway, clock, operator):
    checkout_id = needing_attention(system, gateway, clock)
    token = csrf_of(operator.get(f"/console/checkouts/{checkout_id}").text)

    response = _resolve(operator, checkout_id, "   ", token)

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

    response = _resolve(operator, paid.checkout_id, "nothing to resolve", token)

    assert response.status_code == 409
    assert "only a needs_attention checkout can be resolved" in response.text


# --- what the pages show ----------------------------------------------------------------


def test_the_queue_lists_checkouts_needing_attention_with_retry_and_resolve(
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


def test_pages_forbid_scripts_and_frames_from_other_origins(operator):
    headers = operator.get("/console").headers

    assert "default-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["cache-control"] == "no-store"


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


def test_the_outbox_page_says_the_feature_is_not_built_yet(operator):
    response = operator.get("/console/outbox")

    assert response.status_code == 200 and "not built yet" in response.text


def test_the_outbox_page_lists_messages_once_an_outbox_exists(system, operator):
    with system.read_models.db.write() as tx:
        tx.execute("CREATE TABLE outbox (id TEXT PRIMARY KEY, kind TEXT, template TEXT, "
                   "\"to\" TEXT, status TEXT, attempts INTEGER, last_error TEXT, created_at TEXT, "
                   "sent_at TEXT)")
        tx.execute("INSERT INTO outbox VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   ("msg_1", "email", "order_paid", "ada@example.com", "failed", 3, "smtp <down>",
                    "2026-11-22T10:00:00Z", None))

    page = operator.get("/console/outbox", params={"status": "failed"}).text

    assert "msg_1" in page and "order_paid" in page and "smtp &lt;down&gt;" in page
    assert "not built yet" not in page


def test_an_unknown_checkout_is_a_not_found_page(operator):
    response = operator.get("/console/checkouts/chk_00")

    assert response.status_code == 404 and "text/html" in response.headers["content-type"]


# --- /schema works offline --------------------------------------------------------------


def test_the_schema_page_loads_its_renderer_from_the_product_not_a_cdn(browser):
    page = browser.get("/schema").text

    assert "https://" not in page and "http://" not in page
    assert '<script src="/console/static/vendor/scalar/standalone.js"' in page
    asset = browser.get("/console/static/vendor/scalar/standalone.js")
    assert asset.status_code == 200 and "@scalar/api-reference" in asset.text[:1000]
    assert browser.get("/console/static/schema.css").status_code == 200
