"""`expand[]`: replace an id by the object it names (an intent's `latest_charge`, a
charge's `balance_transaction`, a method's `customer`), following dotted paths
(`latest_charge.balance_transaction`) as Stripe does, up to four levels."""

from __future__ import annotations

import copy
from typing import Any

from stripe_emulator.errors import parameter_invalid
from stripe_emulator.state import Store

Json = dict[str, Any]
_KIND_BY_PREFIX = {
    "ch": "charge",
    "pi": "payment_intent",
    "re": "refund",
    "dp": "dispute",
    "cus": "customer",
    "pm": "payment_method",
    "seti": "setup_intent",
    "txn": "balance_transaction",
}
_MAX_DEPTH = 4


def expand(store: Store, obj: Json, paths: list[str]) -> Json:
    if not paths:
        return obj
    result = copy.deepcopy(obj)
    if result.get("object") in ("list", "search_result"):
        inner = [path.removeprefix("data.") for path in paths if path.startswith("data.")]
        result["data"] = [_expand_one(store, item, inner) for item in result["data"]]
        return result
    return _expand_one(store, result, paths)


def _expand_one(store: Store, obj: Json, paths: list[str]) -> Json:
    for path in paths:
        parts = path.split(".")
        if len(parts) > _MAX_DEPTH:
            raise parameter_invalid("expand", f"You cannot expand more than {_MAX_DEPTH} levels.")
        _expand_path(store, obj, parts, path)
    return obj


def _expand_path(store: Store, obj: Json, parts: list[str], path: str) -> None:
    field = parts[0]
    if field not in obj:
        raise parameter_invalid("expand", f"This property cannot be expanded ({path}).")
    value = obj[field]
    if isinstance(value, str):
        kind = _KIND_BY_PREFIX.get(value.split("_", 1)[0])
        found = store.table(kind).get(value) if kind else None
        if found is not None:
            value = obj[field] = copy.deepcopy(found)
    if len(parts) > 1 and isinstance(value, dict):
        _expand_path(store, value, parts[1:], path)
