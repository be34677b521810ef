"""List and search responses: Stripe's cursor pagination (newest first, `limit`,
`starting_after`, `ending_before`), `created[gte|gt|lte|lt]` filters, and the small
part of the search query language the product uses (`metadata['k']:'v'`, `status:'x'`,
joined by AND or OR).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from stripe_emulator.errors import parameter_invalid, resource_missing
from stripe_emulator.forms import Params, get_int

Json = dict[str, Any]
_COMPARATORS: dict[str, Callable[[int, int], bool]] = {
    "gte": lambda a, b: a >= b,
    "gt": lambda a, b: a > b,
    "lte": lambda a, b: a <= b,
    "lt": lambda a, b: a < b,
}
LIST_PARAMS = ("limit", "starting_after", "ending_before", "created", "expand")


def filter_created(items: list[Json], params: Params) -> list[Json]:
    created = params.get("created")
    if created is None:
        return items
    if isinstance(created, str):
        exact = get_int(params, "created")
        return [item for item in items if item["created"] == exact]
    if not isinstance(created, dict):
        raise parameter_invalid("created", "Invalid created filter.")
    for op, raw in created.items():
        compare = _COMPARATORS.get(op)
        if compare is None:
            raise parameter_invalid(f"created[{op}]", f"Received unknown parameter: created[{op}]")
        bound = get_int({"value": raw}, "value")
        assert bound is not None
        items = [item for item in items if compare(item["created"], bound)]
    return items


def page(items: list[Json], params: Params, url: str) -> Json:
    """One page of a newest-first list."""
    limit = _limit(params)
    start = 0
    after = params.get("starting_after")
    before = params.get("ending_before")
    ids = [item["id"] for item in items]
    if after:
        start = _position(ids, after, "starting_after") + 1
        chunk = items[start : start + limit]
        has_more = start + limit < len(items)
    elif before:
        end = _position(ids, before, "ending_before")
        chunk = items[max(0, end - limit) : end]
        has_more = end - limit > 0
    else:
        chunk = items[:limit]
        has_more = limit < len(items)
    return {"object": "list", "data": chunk, "has_more": has_more, "url": url}


def _limit(params: Params) -> int:
    limit = get_int(params, "limit", minimum=1)
    if limit is None:
        return 10
    if limit > 100:
        raise parameter_invalid(
            "limit", "Invalid limit: must be at most 100.", "parameter_invalid_integer"
        )
    return limit


def _position(ids: list[str], object_id: str, param: str) -> int:
    try:
        return ids.index(object_id)
    except ValueError:
        raise resource_missing("object", object_id, param) from None


_CLAUSE = re.compile(
    r"""^(?P<neg>-)?(?:metadata\[(?P<q>['"])(?P<key>.+?)(?P=q)\]|(?P<field>[a-z_]+))"""
    r"""(?P<op>:|>=|<=|>|<)(?:'(?P<s1>[^']*)'|"(?P<s2>[^"]*)"|(?P<bare>\S+))$"""
)


def search_predicate(query: str) -> Callable[[Json], bool]:
    """Compile `metadata['checkout_id']:'chk_1' AND status:'succeeded'` to a predicate."""
    if " AND " in query and " OR " in query:
        raise _bad_query("cannot mix AND and OR")
    joiner = any if " OR " in query else all
    parts = re.split(r"\s+(?:AND|OR)\s+", query.strip())
    clauses = [_clause(part) for part in parts if part]
    if not clauses:
        raise _bad_query("empty query")
    return lambda obj: joiner(clause(obj) for clause in clauses)


def _clause(text: str) -> Callable[[Json], bool]:
    match = _CLAUSE.match(text.strip())
    if match is None:
        raise _bad_query(f"cannot parse '{text}'")
    value = next(v for v in (match["s1"], match["s2"], match["bare"]) if v is not None)
    op, negate = match["op"], bool(match["neg"])
    key, field = match["key"], match["field"]
    if op != ":" and not re.fullmatch(r"-?\d+", value):
        raise _bad_query(f"'{text}' compares with a non-integer")

    def actual(obj: Json) -> Any:
        return (obj.get("metadata") or {}).get(key) if key is not None else obj.get(field)

    def test(obj: Json) -> bool:
        found = actual(obj)
        if op == ":":
            result = found is not None and str(found) == value
        else:
            result = isinstance(found, int) and _COMPARATORS[_OP_NAMES[op]](found, int(value))
        return result != negate

    return test


_OP_NAMES = {">=": "gte", ">": "gt", "<=": "lte", "<": "lt"}


def _bad_query(reason: str) -> Exception:
    return parameter_invalid("query", f"Invalid search query: {reason}.")


def search_page(items: list[Json], params: Params, url: str) -> Json:
    """Search results; `page` is an opaque offset cursor."""
    limit = _limit(params)
    offset = _page_offset(params.get("page"))
    chunk = items[offset : offset + limit]
    has_more = offset + limit < len(items)
    return {
        "object": "search_result",
        "data": chunk,
        "has_more": has_more,
        "next_page": f"page_{offset + limit}" if has_more else None,
        "url": url,
    }


def _page_offset(cursor: Any) -> int:
    if not cursor:
        return 0
    if isinstance(cursor, str) and cursor.startswith("page_") and cursor[5:].isdigit():
        return int(cursor[5:])
    raise parameter_invalid("page", "Invalid page cursor.")
