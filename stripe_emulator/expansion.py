"""`expand[]`: replace an id by the object it names (e.g. an intent's `latest_charge`,
a refund's `payment_intent`), one level deep, as Stripe does for those fields."""

from __future__ import annotations

import copy
from typing import Any

from stripe_emulator.errors import parameter_invalid
from stripe_emulator.state import Store

Json = dict[str, Any]
_KIND_BY_PREFIX = {"ch": "charge", "pi": "payment_intent", "re": "refund", "dp": "dispute"}


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
        value = obj.get(path)
        if path not in obj:
            raise parameter_invalid("expand", f"This property cannot be expanded ({path}).")
        if isinstance(value, str):
            kind = _KIND_BY_PREFIX.get(value.split("_", 1)[0])
            found = store.table(kind).get(value) if kind else None
            if found is not None:
                obj[path] = copy.deepcopy(found)
    return obj
