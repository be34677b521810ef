"""A tiny router: `(METHOD, "/v1/payment_intents/{id}/capture")` to a handler."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Generic, TypeVar

H = TypeVar("H", bound=Callable[..., object])


class Router(Generic[H]):
    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], H]] = []

    def add(self, method: str, template: str, handler: H) -> None:
        """Routes are tried in the order added, so `/search` goes before `/{id}`."""
        pattern = re.sub(r"\{[^/]+\}", "([^/]+)", template)
        self._routes.append((method, re.compile(pattern), handler))

    def match(self, method: str, path: str) -> tuple[H, tuple[str, ...]] | None:
        for route_method, pattern, handler in self._routes:
            found = pattern.fullmatch(path)
            if found and route_method == method:
                return handler, found.groups()
        return None
