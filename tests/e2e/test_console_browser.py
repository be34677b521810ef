"""The operator console in a real headless Chromium (Debian's, driven by Playwright) against
the product served over loopback: an operator logs in, sees the dashboard, opens a checkout
that needs attention and resolves it with a note, which the API then shows; a form without
its CSRF token is refused; the timeline lists every event in order; /schema renders with no
internet. No request may leave 127.0.0.1 (each is aborted and recorded)."""

from __future__ import annotations

import httpx
import pytest

from adapters.clock import FakeClock
from adapters.database import parse_database_url
from adapters.event_store import EventsourcingStore
from adapters.fake_payment_gateway import FakePaymentGateway
from adapters.settings import Settings
from api.app import create_app
from api.auth import key_id
from tests.conftest import system_for
from tests.e2e.browser import ThreadedServer, chromium, require_browser, screenshot
from tests.e2e.http_helpers import ADMIN_KEY, STORE_KEY, eventually, free_port
from tests.integration.console.support import needing_attention, seed_shop, start

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def executable():
    return require_browser()


@pytest.fixture(scope="module")
def shop(executable, tmp_path_factory):
    """The product on a SQLite file, with paid checkouts and two that need attention."""
    url = f"sqlite:///{tmp_path_factory.mktemp('console')}/checkout-saga.db"
    settings = Settings(database_url=url, database=parse_database_url(url), api_keys=(STORE_KEY,),
                        admin_keys=(ADMIN_KEY,))
    store = EventsourcingStore(settings.database)
    gateway, clock = FakePaymentGateway(), FakeClock()
    system = system_for(store, gateway, clock, settings=settings)
    seed_shop(system)
    stuck = [needing_attention(system, gateway, clock, f"cs_browser_stuck_{i}") for i in range(2)]
    for i in range(3):
        start(system, f"cs_browser_paid_{i}")
    system.read_models.start_background(poll_interval=0.2)
    server = ThreadedServer(create_app(system), free_port()).start()
    try:
        yield server, system, stuck
    finally:
        server.stop()
        system.close()


@pytest.fixture
def browser(executable):
    with chromium(executable) as (context, guard):
        yield context
        assert guard.seen == [], f"requests left 127.0.0.1: {guard.seen}"
        assert guard.errors == [], f"the pages logged errors: {guard.errors}"


@pytest.fixture
def page(browser, shop):
    """A page logged in through the login form."""
    server, _, _ = shop
    page = browser.new_page()
    page.goto(f"{server.base_url}/console")
    assert page.url.startswith(f"{server.base_url}/console/login")
    page.fill("#key", ADMIN_KEY)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.base_url}/console")
    return page


def _api_events(server, checkout_id: str) -> list[dict]:
    response = httpx.get(f"{server.base_url}/checkouts/{checkout_id}/events",
                         headers={"Authorization": f"Bearer {STORE_KEY}"}, timeout=10)
    response.raise_for_status()
    return response.json()["events"]


def test_an_operator_resolves_a_checkout_needing_attention_and_the_api_shows_it(page, shop):
    server, _, stuck = shop
    checkout_id = stuck[0]
    assert page.locator("h1").inner_text() == "Dashboard"
    assert page.locator("svg#per-minute rect.bar").count() == 60
    assert page.locator("#by-status").inner_text().count("needs_attention") == 1
    screenshot(page, "console-dashboard")

    page.click("text=Needs attention")
    eventually(lambda: page.reload() or page.locator(f"tr[data-checkout='{checkout_id}']").count(),
               what="the stuck checkout in the queue")
    screenshot(page, "console-needs-attention")
    page.click(f"a:has-text('{checkout_id}')")
    page.wait_for_url(f"**/console/checkouts/{checkout_id}")
    page.fill("form.resolve input[name=note]", "refunded by hand in the dashboard")
    page.click("form.resolve button")
    page.wait_for_load_state()

    assert page.locator("#current-status").inner_text() == "resolved"
    screenshot(page, "console-resolved-checkout")
    resolved = [e for e in _api_events(server, checkout_id) if e["type"] == "CheckoutResolved"]
    assert len(resolved) == 1
    assert resolved[0]["data"]["note"] == "refunded by hand in the dashboard"
    assert resolved[0]["data"]["cause"]["actor"] == key_id(ADMIN_KEY)


def test_a_form_posted_without_its_csrf_token_is_refused(page, shop):
    server, system, stuck = shop
    checkout_id = stuck[1]
    page.goto(f"{server.base_url}/console/checkouts/{checkout_id}")
    page.evaluate("document.querySelector('form.resolve input[name=_csrf_token]').remove()")
    page.fill("form.resolve input[name=note]", "should not be recorded")

    with page.expect_response(f"**/console/checkouts/{checkout_id}/resolve") as answer:
        page.click("form.resolve button")

    assert answer.value.status == 403
    assert system.checkouts.get(checkout_id).status == "needs_attention"
    forged = page.request.post(f"{server.base_url}/console/checkouts/{checkout_id}/resolve",
                               form={"note": "forged"})
    assert forged.status == 403


def test_the_timeline_lists_every_event_in_order(page, shop):
    server, _, stuck = shop
    checkout_id = stuck[1]
    page.goto(f"{server.base_url}/console/checkouts/{checkout_id}")

    items = page.locator("#timeline > li")
    shown = [(int(items.nth(i).get_attribute("data-version")), items.nth(i).get_attribute("data-type"))
             for i in range(items.count())]

    assert shown == [(e["version"], e["type"]) for e in _api_events(server, checkout_id)]
    assert page.locator("#timeline li.cause-request").count() >= 1
    page.click("#timeline > li:first-child >> text=state here")
    assert "State at version 1 of" in page.locator("aside").inner_text()


def test_logging_out_ends_the_session(page, shop):
    server, _, _ = shop
    page.click("#logout")
    page.wait_for_url("**/console/login")

    page.goto(f"{server.base_url}/console")

    assert "/console/login" in page.url


def test_the_schema_page_renders_with_no_internet(browser, shop):
    server, _, _ = shop
    page = browser.new_page()
    page.goto(f"{server.base_url}/schema")

    page.wait_for_selector("text=/checkouts", timeout=30_000)

    assert "checkout-saga" in page.title()
    screenshot(page, "schema")
