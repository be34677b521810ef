"""The event vocabulary: frozen msgspec Structs, past tense, versioned. A stored contract:
change a payload only with a new ``schema_version``, an upcaster and a test that old events load."""

from events.base import Cause, DomainEvent, LineItem
from events.registry import EVENT_TYPES

__all__ = ["Cause", "DomainEvent", "EVENT_TYPES", "LineItem"]
