"""What a projection is: a pure fold ``(row | None, event) -> row | None`` per key, and the
table it lives in. Rows are plain dicts; JSON columns hold Python values until stored."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from adapters.read_database import rfc3339, ts  # noqa: F401 - the read side's timestamp format
from events.base import DomainEvent

Row = dict[str, Any]


@dataclass(frozen=True)
class Projection:
    name: str  # also the served table's name
    key_column: str
    columns: tuple[str, ...]
    json_columns: frozenset[str]
    key: Callable[[DomainEvent], str | None]  # the row an event touches, or None
    apply: Callable[[Row | None, DomainEvent], Row | None]


def fold_rows(projection: Projection, rows: dict[str, Row], events: list[DomainEvent]) -> set[str]:
    """Folds events into ``rows`` (key -> row, updated in place); returns the keys changed."""
    changed: set[str] = set()
    for event in events:
        key = projection.key(event)
        if key is None:
            continue
        new = projection.apply(rows.get(key), event)
        if new is not None and new is not rows.get(key):
            rows[key] = new
            changed.add(key)
    return changed
