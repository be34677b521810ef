"""Who may use the console and how: login and the session cookie, CSRF on every form (and
only on the console), the pages' headers, and /schema served with no CDN."""

from __future__ import annotations

from dataclasses import replace

from litestar.testing import TestClient

from api.app import create_app
from api.auth import key_id
from tests.integration.api_support import ADMIN, ADMIN_KEY, STORE_KEY
from tests.integration.console.support import csrf_of, log_in, needing_attention, resolve_form

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

    response = resolve_form(operator, checkout_id, "refunded by hand", token=None)

    assert response.status_code == 403
    assert system.checkouts.get(checkout_id).status == "needs_attention"


def test_a_post_with_a_wrong_csrf_token_is_forbidden(system, gateway, clock, operator):
    checkout_id = needing_attention(system, gateway, clock)

    response = resolve_form(operator, checkout_id, "refunded by hand", token="0" * 128)

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


def test_pages_forbid_scripts_and_frames_from_other_origins(operator):
    headers = operator.get("/console").headers

    assert "default-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["cache-control"] == "no-store"


# --- /schema works offline --------------------------------------------------------------


def test_the_schema_page_loads_its_renderer_from_the_product_not_a_cdn(browser):
    page = browser.get("/schema").text

    assert "https://" not in page and "http://" not in page
    assert '<script src="/console/static/vendor/scalar/standalone.js"' in page
    asset = browser.get("/console/static/vendor/scalar/standalone.js")
    assert asset.status_code == 200 and "@scalar/api-reference" in asset.text[:1000]
    assert browser.get("/console/static/schema.css").status_code == 200
