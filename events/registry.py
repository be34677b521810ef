"""Every event type by its stable stored name (the class name): a rename of a module
never orphans stored events."""

from __future__ import annotations

import inspect

from events import (
    api_requests,
    catalog,
    checkout,
    customer,
    inventory,
    numbering,
    order,
    stripe_inbox,
)
from events.base import DomainEvent


def _collect() -> dict[str, type[DomainEvent]]:
    found: dict[str, type[DomainEvent]] = {}
    for module in (checkout, inventory, order, catalog, stripe_inbox, api_requests, numbering,
                   customer):
        for name, obj in vars(module).items():
            if inspect.isclass(obj) and issubclass(obj, DomainEvent) and obj is not DomainEvent:
                if obj.__module__ != module.__name__:
                    continue
                if name in found:
                    raise RuntimeError(f"duplicate event type name {name}")
                found[name] = obj
    return found


EVENT_TYPES: dict[str, type[DomainEvent]] = _collect()
