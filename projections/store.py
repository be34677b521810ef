"""Projection rows and tracking positions in SQL. Every function takes an open transaction:
the caller puts a batch's row changes and its new position in the same one."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime

from projections.base import Projection, Row

_CHUNK = 500


def _decode(projection: Projection, row: dict) -> Row:
    return {k: (json.loads(v) if k in projection.json_columns and v is not None else v)
            for k, v in row.items()}


def _encode(projection: Projection, row: Row) -> list:
    return [json.dumps(row[c], separators=(",", ":")) if c in projection.json_columns else row[c]
            for c in projection.columns]


def load_rows(tx, projection: Projection, table: str, keys: Iterable[str]) -> dict[str, Row]:
    keys = list(keys)
    found: dict[str, Row] = {}
    for i in range(0, len(keys), _CHUNK):
        chunk = keys[i : i + _CHUNK]
        marks = ", ".join("?" * len(chunk))
        for row in tx.fetchall(f"SELECT * FROM {table} WHERE {projection.key_column} IN ({marks})",
                               chunk):
            found[row[projection.key_column]] = _decode(projection, row)
    return found


def upsert_rows(tx, projection: Projection, table: str, rows: Iterable[Row]) -> None:
    cols = projection.columns
    updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c != projection.key_column)
    sql = (f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
           f"ON CONFLICT ({projection.key_column}) DO UPDATE SET {updates}")
    tx.executemany(sql, [_encode(projection, r) for r in rows])


def ensure_tracking(tx, names: Iterable[str]) -> None:
    now = datetime.now(UTC).isoformat()
    tx.executemany("INSERT INTO projection_tracking (name, position, updated_at) VALUES (?, 0, ?) "
                   "ON CONFLICT (name) DO NOTHING", [(n, now) for n in names])


def positions(tx, names: list[str], *, lock: bool = False) -> dict[str, int]:
    marks = ", ".join("?" * len(names))
    suffix = " ORDER BY name FOR UPDATE" if lock and tx.is_postgres else ""
    rows = tx.fetchall(f"SELECT name, position FROM projection_tracking WHERE name IN ({marks})"
                       f"{suffix}", names)
    found = {r["name"]: int(r["position"]) for r in rows}
    return {n: found.get(n, 0) for n in names}


def set_position(tx, names: Iterable[str], position: int) -> None:
    now = datetime.now(UTC).isoformat()
    tx.executemany("UPDATE projection_tracking SET position = ?, updated_at = ? WHERE name = ?",
                   [(position, now, n) for n in names])
