"""The shop's outbound webhook endpoints (read database, managed by the admin API). The
secret is kept to sign deliveries and never shown again."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import msgspec

from adapters.read_database import ReadDatabase, rfc3339, ts


class WebhookEndpoint(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    url: str
    secret: str
    events: tuple[str, ...]
    created_at: str | None = None  # RFC 3339
    updated_at: str | None = None


def _endpoint(row: dict[str, Any]) -> WebhookEndpoint:
    return WebhookEndpoint(name=row["name"], url=row["url"], secret=row["secret"],
                           events=tuple(json.loads(row["events"])),
                           created_at=rfc3339(row["created_at"]),
                           updated_at=rfc3339(row["updated_at"]))


class WebhookEndpoints:
    def __init__(self, db: ReadDatabase) -> None:
        self.db = db

    def put(self, name: str, url: str, secret: str, events: list[str], now: datetime) -> WebhookEndpoint:
        at = ts(now)
        with self.db.write() as tx:
            tx.execute("INSERT INTO webhook_endpoints (name, url, secret, events, created_at, updated_at) "
                       "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET url = excluded.url, "
                       "secret = excluded.secret, events = excluded.events, "
                       "updated_at = excluded.updated_at",
                       (name, url, secret, json.dumps(sorted(set(events))), at, at))
            row = tx.fetchone("SELECT * FROM webhook_endpoints WHERE name = ?", (name,))
        assert row is not None
        return _endpoint(row)

    def get(self, name: str) -> WebhookEndpoint | None:
        with self.db.read() as tx:
            row = tx.fetchone("SELECT * FROM webhook_endpoints WHERE name = ?", (name,))
        return _endpoint(row) if row else None

    @staticmethod
    def subscriptions(tx) -> dict[str, tuple[str, ...]]:
        """``{name: event types}`` as of the caller's transaction."""
        rows = tx.fetchall("SELECT name, events FROM webhook_endpoints")
        return {r["name"]: tuple(json.loads(r["events"])) for r in rows}
