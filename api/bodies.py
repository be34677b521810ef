"""Request bodies that cannot be parsed are the client's error, never a 500: litestar's JSON
decoder lets ``RecursionError`` (nesting deeper than the interpreter's stack) and
``UnicodeDecodeError`` (bytes that are not UTF-8) escape. The app's request class answers
both as ``400 malformed_json``, as for any other body that is not JSON."""

from __future__ import annotations

from typing import Any

from litestar import Request

from api.problems import ApiError

UNPARSABLE = {
    RecursionError: "the body is not valid JSON: it is nested too deeply",
    UnicodeDecodeError: "the body is not valid JSON: it is not UTF-8",
}


def malformed(exc: Exception) -> ApiError:
    return ApiError(400, "malformed_json", UNPARSABLE.get(type(exc), "the body is not valid JSON"))


class JsonRequest(Request):
    async def json(self) -> Any:
        try:
            return await super().json()
        except (RecursionError, UnicodeDecodeError) as exc:
            raise malformed(exc) from None
