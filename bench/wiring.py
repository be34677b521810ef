"""The benches get their parts from the composition root, like every other process."""

from __future__ import annotations

from adapters.clock import SystemClock
from adapters.database import parse_database_url
from adapters.settings import Settings
from bootstrap import System, build


def system_on(url: str, store, gateway, *, reservation_ttl_seconds: int = 900) -> System:
    settings = Settings(database_url=url, database=parse_database_url(url),
                        reservation_ttl_seconds=reservation_ttl_seconds)
    return build(settings, store=store, gateway=gateway, clock=SystemClock(), sleep=lambda _: None)
