"""The storefront write limit across two real API processes (CONTRACT §3.10): with Redis,
limit + 1 writes spread over both servers get exactly one 429 with Retry-After."""

from __future__ import annotations

import secrets
import time

import httpx
import pytest

from tests.e2e.http_helpers import ServerProcess

LIMIT = 6
REDIS_URL = "redis://127.0.0.1:6379/0"


def _redis_available() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except Exception:  # noqa: BLE001
        return False


@pytest.mark.skipif(not _redis_available(), reason="no Redis at 127.0.0.1:6379")
def test_two_api_processes_sharing_redis_allow_the_limit_in_total(tmp_path):
    key = f"sk_store_{secrets.token_hex(12)}"  # this run's own count in Redis
    env = {"CHECKOUT_SAGA_RATE_LIMIT_PER_MINUTE": str(LIMIT), "CHECKOUT_SAGA_REDIS_URL": REDIS_URL,
           "CHECKOUT_SAGA_API_KEYS": key}
    database = f"sqlite:///{tmp_path / 'e2e.db'}"
    with ServerProcess(database, extra_env=env) as first, ServerProcess(database, extra_env=env) as second:
        if time.time() % 60 > 45:  # the count is per clock minute: start in a fresh one
            time.sleep(61 - time.time() % 60)
        headers = {"Authorization": f"Bearer {key}"}
        answers = [httpx.post(f"{server.base_url}/checkouts/chk_{n:032x}/cancel", headers=headers)
                   for n in range(LIMIT + 1) for server in [(first, second)[n % 2]]]
    assert [a.status_code for a in answers] == [404] * LIMIT + [429]
    refused = answers[-1]
    assert refused.json()["code"] == "rate_limited"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
