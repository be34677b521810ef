"""The storefront write limit (CONTRACT §3.10) through the app: per API key per minute,
429 rate_limited with Retry-After; shared through Redis by two app instances; without Redis
each of N processes allows limit ÷ N (rounded up). Counters run on a fixed clock, so a test
never straddles a minute."""

from __future__ import annotations

import dataclasses
import secrets

import pytest
from litestar.testing import TestClient

from adapters.rate_limits import LocalWindow, RedisWindow
from adapters.settings import Settings
from api.app import create_app
from api.auth import Keys
from api.rate_limit import RateLimit
from tests.conftest import system_for
from tests.integration.api_support import ADMIN, ADMIN_KEY, STORE_KEY, api_settings, assert_problem

REDIS_URL = "redis://127.0.0.1:6379/0"
NOON = 1_790_000_040.0 + 17  # a fixed moment, 17 s into a minute: 43 s left
LIMIT = 5


def _redis_available() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except Exception:  # noqa: BLE001
        return False


needs_redis = pytest.mark.skipif(not _redis_available(), reason="no Redis at 127.0.0.1:6379")


@pytest.fixture
def store_key():
    """A key of this test only, so shared Redis counts never mix between tests or runs."""
    return f"sk_store_{secrets.token_hex(12)}"


def keys(store_key) -> Keys:
    return Keys(storefront=(store_key, STORE_KEY), admin=(ADMIN_KEY,))


@pytest.fixture
def make_client(service, gateway, clock, database_url, api_read_models, store_key):
    clients = []

    def make(limit: RateLimit) -> TestClient:
        settings = dataclasses.replace(api_settings(database_url), api_keys=(store_key, STORE_KEY))
        app = create_app(system_for(service.store, gateway, clock, settings=settings,
                                    read_models=api_read_models), rate_limit=limit)
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def local(store_key, processes=1) -> RateLimit:
    return RateLimit(per_minute=LIMIT, processes=processes, keys=keys(store_key),
                     local=LocalWindow(clock=lambda: NOON))


def shared(store_key) -> RateLimit:
    return RateLimit(per_minute=LIMIT, processes=4, keys=keys(store_key),
                     shared=RedisWindow(REDIS_URL, clock=lambda: NOON),
                     local=LocalWindow(clock=lambda: NOON))


def write(client, key, n=0):
    """A storefront write that is cheap and always answered the same way (404: no checkout)."""
    return client.post(f"/checkouts/chk_{n:032x}/cancel", headers={"Authorization": f"Bearer {key}"})


def test_one_write_over_the_limit_is_refused_with_retry_after(make_client, store_key):
    client = make_client(local(store_key))
    answers = [write(client, store_key, n).status_code for n in range(LIMIT + 1)]
    assert answers == [404] * LIMIT + [429]
    refused = write(client, store_key)
    assert_problem(refused, 429, "rate_limited")
    assert refused.headers["retry-after"] == "43"


def test_each_key_has_its_own_count(make_client, store_key):
    client = make_client(local(store_key))
    for n in range(LIMIT):
        write(client, store_key, n)
    assert write(client, STORE_KEY).status_code == 404


def test_reads_webhooks_health_metrics_and_admin_calls_are_never_limited(make_client, store_key):
    client = make_client(local(store_key))
    for n in range(LIMIT):
        write(client, store_key, n)
    auth = {"Authorization": f"Bearer {store_key}"}
    assert client.get("/customers/cus_42/payment-methods", headers=auth).status_code == 200
    assert client.post("/webhooks/stripe", content=b"{}", headers=auth).status_code == 400
    assert client.get("/healthz").status_code == 200
    assert client.get("/metrics").status_code == 200
    assert write(client, ADMIN_KEY).status_code == 404
    assert client.post("/checkouts/chk_x/cancel", headers=ADMIN).status_code == 404


def test_a_request_without_a_valid_key_gets_its_401_not_a_429(make_client, store_key):
    client = make_client(local(store_key))
    for n in range(LIMIT + 3):
        write(client, store_key, n)
    assert_problem(write(client, "sk_store_not_a_real_key_000"), 401, "unauthorized")


def test_without_redis_each_of_n_processes_allows_limit_divided_by_n_rounded_up(make_client, store_key):
    processes = [make_client(local(store_key, processes=2)) for _ in range(2)]
    allowed = [sum(write(c, store_key, n).status_code == 404 for n in range(LIMIT)) for c in processes]
    assert allowed == [3, 3]  # ceil(5 / 2) each; together 6 — see the README's note
    four = make_client(local(store_key, processes=4))
    assert sum(write(four, store_key, n).status_code == 404 for n in range(LIMIT)) == 2


@needs_redis
def test_with_redis_two_app_instances_share_one_count(make_client, store_key):
    first, second = make_client(shared(store_key)), make_client(shared(store_key))
    answers = [write(client, store_key, n).status_code
               for n in range(LIMIT + 2) for client in (first, second)][: LIMIT + 2]
    assert answers == [404] * LIMIT + [429, 429]
    refused = write(second, store_key)
    assert_problem(refused, 429, "rate_limited")
    assert refused.headers["retry-after"] == "43"


def test_when_redis_is_unreachable_each_process_keeps_to_its_local_share(make_client, store_key):
    limit = RateLimit(per_minute=LIMIT, processes=2, keys=keys(store_key),
                      shared=RedisWindow("redis://127.0.0.1:1/0", clock=lambda: NOON),
                      local=LocalWindow(clock=lambda: NOON))
    client = make_client(limit)
    assert [write(client, store_key, n).status_code for n in range(4)] == [404, 404, 404, 429]


def test_the_limit_is_read_from_the_settings():
    settings = Settings(rate_limit_per_minute=100, redis_url=REDIS_URL)

    @dataclasses.dataclass(frozen=True)
    class ThreeWorkers(Settings):
        workers: int = 3

    built = RateLimit.from_settings(settings, Keys(storefront=(), admin=()))
    assert built.per_minute == 100 and isinstance(built.shared, RedisWindow)
    local_only = RateLimit.from_settings(ThreeWorkers(rate_limit_per_minute=100), Keys((), ()))
    assert local_only.shared is None and local_only.local_limit == 34
    assert RateLimit.from_settings(Settings(rate_limit_per_minute=0), Keys((), ())) is None


@pytest.mark.parametrize(("variable", "value"), [("CHECKOUT_SAGA_REDIS_URL", "http://127.0.0.1:6379"),
                                                 ("CHECKOUT_SAGA_RATE_LIMIT_PER_MINUTE", "lots"),
                                                 ("CHECKOUT_SAGA_RATE_LIMIT_PER_MINUTE", "-1")])
def test_a_bad_limit_setting_stops_start_up_naming_the_variable(variable, value):
    from adapters.settings import ConfigError, load_settings

    with pytest.raises(ConfigError) as refused:
        load_settings({variable: value}, dotenv=None)
    assert refused.value.variable == variable


def test_the_limit_settings_are_read_from_the_environment():
    from adapters.settings import load_settings

    settings = load_settings({"CHECKOUT_SAGA_RATE_LIMIT_PER_MINUTE": "60",
                              "CHECKOUT_SAGA_REDIS_URL": REDIS_URL}, dotenv=None)
    assert (settings.rate_limit_per_minute, settings.redis_url) == (60, REDIS_URL)
    assert load_settings({}, dotenv=None).rate_limit_per_minute == 1200
