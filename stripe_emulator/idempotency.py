"""Idempotency keys, with Stripe's semantics.

- A key seen with the same method, path and parameters replays the stored reply
  (status and body, errors included) with `Idempotent-Replayed: true`.
- The same key with anything else is an `idempotency_error` (400).
- The same key while its first request is still running is `409
  idempotency_key_in_use`: the caller should retry later.
- Replies Stripe does not store (validation errors, injected 500s and 429s) release
  the key so a retry runs for real.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from stripe_emulator.errors import idempotency_in_use, idempotency_mismatch


@dataclass(frozen=True)
class StoredReply:
    status: int
    body: bytes


@dataclass
class _Entry:
    fingerprint: str
    reply: StoredReply | None = None  # None while the first request is running


def fingerprint(method: str, path: str, body: bytes) -> str:
    """Parameters compared regardless of their order on the wire."""
    pairs = sorted(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    return f"{method} {path}?{urlencode(pairs)}"


class IdempotencyKeys:
    """Keys to replies; thread-safe because the app's loop and tests both use it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}

    def begin(self, key: str, print_: str) -> StoredReply | None:
        """The stored reply to replay, or None when the caller now owns the key and must
        call `finish`. Raises the Stripe error for a key in use or reused."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self._entries[key] = _Entry(print_)
                return None
            if entry.reply is None:
                raise idempotency_in_use(key)
            if entry.fingerprint != print_:
                raise idempotency_mismatch(key)
            return entry.reply

    def finish(self, key: str, reply: StoredReply | None) -> None:
        """Store the reply, or forget the key when `reply` is None (not stored)."""
        with self._lock:
            if reply is None:
                self._entries.pop(key, None)
            elif key in self._entries:
                self._entries[key].reply = reply

    def reset(self) -> None:
        with self._lock:
            self._entries.clear()
