"""Encoding events to bytes and back, with upcasting of older payload versions.

The stored topic is ``"<TypeName>@<schema_version>"``; the payload is msgspec JSON of the
whole struct. A payload at the class's current version decodes straight into the struct;
an older one goes through the class's upcasters first.
"""

from __future__ import annotations

from typing import Any

import msgspec

from events.base import DomainEvent
from events.registry import EVENT_TYPES

_encoder = msgspec.json.Encoder()


class UnknownEventTypeError(LookupError):
    pass


def topic_for(event: DomainEvent) -> str:
    cls = type(event)
    return f"{cls.__name__}@{cls.schema_version}"


def encode(event: DomainEvent) -> bytes:
    return _encoder.encode(event)


def _parse_topic(topic: str) -> tuple[type[DomainEvent], int]:
    name, _, version = topic.partition("@")
    try:
        cls = EVENT_TYPES[name]
    except KeyError:
        raise UnknownEventTypeError(f"no event type named {name!r}") from None
    return cls, int(version or 1)


def upcast(cls: type[DomainEvent], payload: dict[str, Any], from_version: int) -> dict[str, Any]:
    version = from_version
    while version < cls.schema_version:
        payload = cls.upcasters[version](payload)
        version += 1
    return payload


def decode(topic: str, data: bytes) -> DomainEvent:
    cls, version = _parse_topic(topic)
    if version == cls.schema_version:
        return msgspec.json.decode(data, type=cls)
    payload = upcast(cls, msgspec.json.decode(data), version)
    return msgspec.convert(payload, cls)


def to_jsonable(event: DomainEvent) -> dict[str, Any]:
    """The event's own fields (without stream bookkeeping), for audit output."""
    data = msgspec.to_builtins(event)
    for key in ("originator_id", "originator_version"):
        data.pop(key, None)
    return data
