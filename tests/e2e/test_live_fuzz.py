"""schemathesis against the live server, all phases: ``checkout-saga serve`` as a subprocess on
a fresh PostgreSQL database with its built-in Stripe emulator, seeded with a seller who can
take payments, a product with stock and one completed checkout.

- coverage and fuzzing phases through schemathesis' engine (what ``schemathesis run`` does),
  bounded by a time budget and an example count;
- the stateful phase (the engine's run of ``schema.as_state_machine()``), which follows the
  document's OpenAPI links (a created checkout to its reads, confirm, cancel, events and order; an order
  to its refunds; a product to its stock), bounded in examples and steps.

Every response must: not be a 5xx, have a declared status, content type and body (schemathesis'
default checks), be an RFC 9457 problem with a ``code`` when it is an error, and, for a request
that matches the schema, be refused only for the state it meets (an unknown SKU, a checkout that
cannot be confirmed any more, ...), never as invalid. Storefront routes are called with the
storefront key, admin routes with the admin key. About two minutes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis.engine import events
from schemathesis.generation.modes import GenerationMode

from tests.conftest import IN_CI
from tests.e2e.http_helpers import (
    ADMIN_KEY,
    STORE_KEY,
    ServerProcess,
    Unavailable,
    checkout_body,
    postgres_database,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

# Seconds for the coverage + fuzzing run (the engine repeats fuzzing until the budget is spent),
# and the stateful phase's examples and steps. LIVE_FUZZ_SECONDS=600 explores further by hand.
ENGINE_SECONDS = int(os.environ.get("LIVE_FUZZ_SECONDS", "60"))
FUZZ_EXAMPLES = 25
STATEFUL_SECONDS = 40
STATEFUL_EXAMPLES = 30
STATEFUL_STEPS = 6
SEED = 20261201

PROBLEM_FIELDS = {"type", "title", "status", "detail", "code"}

# A request matching the schema may still be refused for the state it meets; these are the only
# refusals it may get (status, problem code or None for any code).
# (Each call carries the right key, so a 401 or 403 is never one of them; a storefront write
# over the key's rate limit is a 429, documented on those routes.)
STATE_DEPENDENT = {402, 404, 409, 429}
STATE_DEPENDENT_422 = {"unknown_sku", "product_unavailable"}
UNSIGNABLE = ("POST", "/webhooks/stripe", 400, "invalid_signature")  # no generator signs events


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    try:
        database = postgres_database()
        url = database.__enter__()
    except Unavailable as exc:
        if IN_CI:
            pytest.fail(f"{exc}; CI requires the PostgreSQL tests to run")
        pytest.skip(str(exc))
    try:
        with ServerProcess(url) as running:
            yield running
    finally:
        database.__exit__(None, None, None)


@pytest.fixture(scope="module")
def seeded(shop) -> dict[str, str]:
    """A seller who can take payments, a product with plenty of stock, one paid order."""
    sku = shop.product(stock=100_000, seller="acct_fuzz")
    response = shop.store.post("/checkouts", json=checkout_body("cs_live_fuzz_0001", sku))
    assert response.status_code == 201, response.text
    checkout = shop.wait_for_status(response.json()["checkout_id"], "completed", timeout=30)
    return {"sku": sku, "checkout_id": checkout["checkout_id"],
            "order_id": checkout["order"]["order_id"], "seller_id": "acct_fuzz"}


def _admin_operations(base_url: str) -> list[str]:
    """Admin routes: those whose document declares a 403 (a storefront key is forbidden)."""
    document = httpx.get(f"{base_url}/schema/openapi.json", timeout=30).json()
    return sorted(op["operationId"] for item in document["paths"].values() for op in item.values()
                  if "403" in op.get("responses", {}))


def _schema(server: ServerProcess, seeded: dict[str, str], seconds: int = ENGINE_SECONDS,
            **phases: bool):
    admin = _admin_operations(server.base_url)
    assert len(admin) >= 8, admin
    config = schemathesis.Config.from_dict({
        "seed": SEED,
        "workers": 1,
        "max-time": seconds,
        "suppress-health-check": ["all"],
        "headers": {"Authorization": f"Bearer {STORE_KEY}"},
        "generation": {"max-examples": FUZZ_EXAMPLES, "with-security-parameters": False},
        "phases": {name: {"enabled": phases.get(name, False)}
                   for name in ("examples", "coverage", "fuzzing", "stateful")}
        | {"stateful": {"enabled": phases.get("stateful", False), "max-steps": STATEFUL_STEPS,
                        "generation": {"max-examples": STATEFUL_EXAMPLES}}},
        # positive_data_acceptance: replaced by _problem, which knows the refusals that depend on state;
        # allow_header_conformance: litestar's automatic OPTIONS answer lists the methods of one
        # handler of a path, not all (OPTIONS /products/{sku} says GET, not PUT); a known gap,
        # reported, not fixed here. A 405 does list them all (schemathesis' unsupported_method).
        "checks": {"positive_data_acceptance": {"enabled": False},
                   "allow_header_conformance": {"enabled": False}},
        "operations": [{"include-operation-id": operation_id,
                        "headers": {"Authorization": f"Bearer {ADMIN_KEY}"}} for operation_id in admin],
        # half of the generated identifiers (and cart SKUs) name the seeded resources
        "dictionaries": {name: {"values": [value]} for name, value in seeded.items()}
        | {"currency": {"values": ["usd"]}},
        "parameters": {f"path.{name}": {"dictionary": name, "probability": 0.5} for name in seeded}
        | {"body.items[*].sku": {"dictionary": "sku", "probability": 0.5},
           "body.currency": {"dictionary": "currency", "probability": 0.5}},
    })
    return schemathesis.openapi.from_url(f"{server.base_url}/schema/openapi.json", config=config)


def _problem(method: str, path: str, status: int, content_type: str, body: Any,
             positive: bool) -> str | None:
    """What is wrong with this answer beyond schemathesis' own checks, or None."""
    if status < 400:
        return None
    if not content_type.startswith("application/problem+json"):
        return f"{status} served as {content_type!r}, not application/problem+json"
    if not isinstance(body, dict) or not PROBLEM_FIELDS <= body.keys() or body["status"] != status:
        return f"{status} is not an RFC 9457 problem with a code: {str(body)[:300]}"
    if not positive or status in STATE_DEPENDENT:
        return None
    code = body["code"]
    if (method, path, status, code) == UNSIGNABLE:
        return None
    if status == 422 and code in STATE_DEPENDENT_422:
        return None
    fields = {e.get("field") for e in body.get("errors") or []}
    # JSON Schema cannot say "distinct SKUs" of a list of objects, nor that a cart's currency
    # is its products' (a state: the price list), nor which SKUs and how many of them an order
    # has to restock (a state: the order's lines); a cursor is opaque
    # nor, without conditionals on a property inside a nullable object, that saving the card or
    # paying with the "default" one needs customer.id (shipped needs tracking_number is an if/then)
    errors = body.get("errors") or []
    if code == "validation_error" and errors and all(
            e.get("message", "").startswith(("duplicate sku", "priced in ", "needs customer.id"))
            or str(e.get("field", "")).startswith("restock[") for e in errors):
        return None
    if code == "validation_error" and fields == {"cursor"}:
        return None
    # nor that a daily report's ``to`` is not before its ``from`` and at most 366 days after it
    # (a rule between two query parameters)
    if code == "validation_error" and path == "/admin/reports/daily" and fields == {"to"}:
        return None
    return f"a request matching the schema was refused as invalid: {status} {str(body)[:300]}"


def _describe(method: str, uri: str, body: bytes | None, failure: str) -> str:
    return f"{method} {uri}\n  body: {(body or b'')[:300]!r}\n  {failure}"


def _run(schema) -> tuple[list[str], int, set[str]]:
    """Run the schema's enabled phases; (failures, requests answered, operations that answered
    2xx). Failures are schemathesis' own checks and ``_problem``, applied to every answer."""
    failures: list[str] = []
    answered = 0
    succeeded: set[str] = set()
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.NonFatalError | events.FatalError):
            failures.append(f"engine error: {event}")
        if not isinstance(event, events.ScenarioFinished):
            continue
        recorder = event.recorder
        for checks in recorder.checks.values():
            for check in checks:
                if check.failure_info is not None:
                    failures.append(f"{recorder.label} [{check.name}]: {check.failure_info.failure.title}"
                                    f"\n{check.failure_info.code_sample}")
        for case_id, interaction in recorder.interactions.items():
            response, case = interaction.response, recorder.cases[case_id].value
            if response is None:
                continue
            answered += 1
            if response.status_code < 300:
                succeeded.add(case.operation.label)
            positive = case.meta is None or case.meta.generation.mode is GenerationMode.POSITIVE
            if response.status_code == 401 and not _sent_a_key(interaction.request.headers):
                positive = False  # schemathesis' ignored_auth probe, sent without a valid key
            found = _problem(case.method.upper(), case.operation.path, response.status_code,
                             response.headers.get("content-type", [""])[0], _json(response), positive)
            if found:
                failures.append(_describe(interaction.request.method, interaction.request.uri,
                                          interaction.request.body, found))
    return list(dict.fromkeys(failures)), answered, succeeded


def _sent_a_key(headers: dict[str, list[str]]) -> bool:
    sent = [v for k, values in headers.items() if k.lower() == "authorization" for v in values]
    return any(v in (f"Bearer {STORE_KEY}", f"Bearer {ADMIN_KEY}") for v in sent)


def _json(response) -> Any:
    try:
        return response.json()
    except Exception:  # noqa: BLE001 - a body that is not JSON is reported by the caller
        return None


def test_coverage_and_fuzzing_phases_find_no_server_error_and_no_mismatch(server, seeded):
    failures, answered, _ = _run(_schema(server, seeded, coverage=True, fuzzing=True))
    assert answered > 500, f"only {answered} requests answered"
    assert not failures, f"{len(failures)} failures:\n\n" + "\n\n".join(failures)


def test_stateful_phase_follows_the_links_without_a_server_error(server, seeded):
    # The engine runs ``schema.as_state_machine()`` and, unlike a bare ``run()``, tells a
    # scenario that replays differently against a live server (its state moved on: the same
    # session now answers 200, not 201) from a failure, instead of raising Flaky.
    schema = _schema(server, seeded, seconds=STATEFUL_SECONDS, stateful=True)
    assert schema.statistic.transitions.total >= 40  # the document's links
    failures, answered, succeeded = _run(schema)
    print(f"stateful: {answered} requests; 2xx from {sorted(succeeded)}")
    assert not failures, f"{len(failures)} failures:\n\n" + "\n\n".join(failures)
    # the links carry real identifiers from one call to the next: a created checkout's own
    # routes, its order and the product's stock answer, not only 404s
    assert answered > 50, answered
    linked = {"GET /checkouts/{checkout_id}", "GET /checkouts/{checkout_id}/events",
              "POST /checkouts/{checkout_id}/confirm", "POST /checkouts/{checkout_id}/cancel",
              "GET /orders/{order_id}", "GET /orders/{order_id}/refunds", "POST /orders/{order_id}/refunds",
              "GET /inventory/{sku}", "GET /products/{sku}", "POST /inventory/{sku}/adjustments"}
    assert len(linked & succeeded) >= 6, sorted(succeeded)
