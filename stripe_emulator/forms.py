"""Stripe's form encoding, both ways in: `metadata[checkout_id]=x`, `expand[0]=a`,
`created[gte]=1700000000` become nested dicts and lists, and typed readers turn the
strings into what the endpoint needs with Stripe's error for a wrong value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

from stripe_emulator.errors import ApiError, parameter_invalid, parameter_unknown

Params = dict[str, Any]
_SEGMENT = re.compile(r"\[([^\]]*)\]")


def parse_form(raw: bytes | str) -> Params:
    """Decode an `application/x-www-form-urlencoded` body or query string."""
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    root: Params = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        _assign(root, _key_path(key), value)
    return _lists_from_indexes(root)


def _key_path(key: str) -> list[str]:
    head, _, rest = key.partition("[")
    return [head, *_SEGMENT.findall("[" + rest)] if rest else [head]


def _assign(node: Params, path: list[str], value: str) -> None:
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    last = path[-1]
    if last == "":  # `expand[]=a`: append
        last = str(sum(1 for k in node if k.isdigit()))
    node[last] = value


def _lists_from_indexes(node: Any) -> Any:
    """`{"0": a, "1": b}` -> `[a, b]`: the SDK always indexes arrays."""
    if not isinstance(node, dict):
        return node
    converted = {key: _lists_from_indexes(value) for key, value in node.items()}
    if converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
    return converted


def reject_unknown(params: Params, allowed: Iterable[str]) -> None:
    """Stripe refuses parameters it does not know; so does the emulator, which catches
    typos like `metdata` in the product the way the real API would."""
    known = set(allowed)
    for key in params:
        if key not in known:
            raise parameter_unknown(key)


def get_str(params: Params, name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise parameter_invalid(name, f"Invalid string: {name} must be a string.")
    return value


def get_int(params: Params, name: str, *, minimum: int | None = None) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise parameter_invalid(
            name, f"Invalid integer: {value}", code="parameter_invalid_integer"
        ) from None
    if minimum is not None and number < minimum:
        raise parameter_invalid(
            name,
            f"Invalid integer: {name} must be at least {minimum}.",
            code="parameter_invalid_integer",
        )
    return number


def get_bool(params: Params, name: str) -> bool | None:
    value = params.get(name)
    if value is None:
        return None
    if value in ("true", "false"):
        return value == "true"
    raise parameter_invalid(name, f"Invalid boolean: {value}")


def get_choice(params: Params, name: str, choices: tuple[str, ...]) -> str | None:
    value = get_str(params, name)
    if value is not None and value not in choices:
        raise parameter_invalid(
            name,
            f"Invalid {name}: must be one of {', '.join(choices)}",
            code="parameter_invalid_string" if value else "parameter_invalid_empty",
        )
    return value


def get_metadata(params: Params) -> dict[str, str] | None:
    """`metadata` as sent: a dict of strings, or `""` meaning "clear all"."""
    value = params.get("metadata")
    if value is None:
        return None
    if value == "":
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise parameter_invalid("metadata", "Invalid metadata: must be a hash of strings.")
    return value


def merge_metadata(
    current: dict[str, str], update: dict[str, str] | None, *, replace: bool
) -> dict[str, str]:
    """Stripe merges metadata keys on update; an empty value deletes that key."""
    if update is None:
        return current
    if replace or update == {}:
        base: dict[str, str] = {}
    else:
        base = dict(current)
    for key, value in update.items():
        if value == "":
            base.pop(key, None)
        else:
            base[key] = value
    return base


def get_expand(params: Params) -> list[str]:
    value = params.get("expand") or []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        raise ApiError(
            400, "invalid_request_error", "Invalid array", param="expand", replayable=False
        )
    return [str(item) for item in value]
