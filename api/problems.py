"""Every error as RFC 9457 problem+json with a CONTRACT code. Domain errors map to HTTP
here and nowhere else; anything unexpected becomes a plain 500 problem (logged, no trace)."""

from __future__ import annotations

import re
from typing import Any

import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from checkout_saga import errors
from projections.queries import InvalidCursorError

PROBLEM_JSON = "application/problem+json"
log = structlog.get_logger("api")

DOMAIN_STATUS: dict[str, int] = {
    "validation_error": 422,
    "not_found": 404,
    "idempotency_conflict": 409,
    "unknown_sku": 422,
    "product_unavailable": 422,
    "insufficient_stock": 409,
    "seller_cannot_accept_payments": 409,
    "card_declined": 402,
    "checkout_not_confirmable": 409,
    "checkout_not_cancellable": 409,
    "checkout_not_retryable": 409,
    "order_not_paid": 409,
    "refund_exceeds_remaining": 409,
    "refund_window_expired": 409,
    "approval_requires_second_admin": 403,
    "refund_not_awaiting_approval": 409,
    "payment_provider_unavailable": 503,
    "concurrency_conflict": 409,
}

TITLES: dict[int, str] = {
    400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden",
    404: "Not Found", 405: "Method Not Allowed", 409: "Conflict", 413: "Content Too Large",
    415: "Unsupported Media Type", 422: "Unprocessable Content", 429: "Too Many Requests",
    500: "Internal Server Error", 503: "Service Unavailable",
}

HTTP_CODES: dict[int, str] = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 413: "payload_too_large", 415: "unsupported_media_type",
    429: "rate_limited", 503: "service_unavailable",
}

# details that are safe and useful on the wire, per code
PUBLIC_DETAILS: dict[str, tuple[str, ...]] = {
    "insufficient_stock": ("checkout_id", "lines"),
    "card_declined": ("checkout_id", "decline_code"),
    "refund_exceeds_remaining": ("refundable",),
    "refund_window_expired": ("order_id", "window_days", "window_ended_at"),
    "approval_requires_second_admin": ("refund_id",),
    "refund_not_awaiting_approval": ("refund_id", "status"),
    "seller_cannot_accept_payments": ("checkout_id", "seller_id"),
    "unknown_sku": ("sku", "skus"),
    "product_unavailable": ("sku", "skus"),
    "checkout_not_confirmable": ("checkout_id", "status"),
    "checkout_not_cancellable": ("checkout_id", "status"),
    "checkout_not_retryable": ("checkout_id", "status"),
    "order_not_paid": ("order_id", "status"),
    "payment_provider_unavailable": ("retry_after",),
}


class ApiError(Exception):
    """An error raised by the HTTP layer itself (not the domain)."""

    def __init__(self, status: int, code: str, detail: str, *,
                 headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


def problem_body(status: int, code: str, detail: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    body = {"type": f"https://checkout-saga.dev/problems/{code}",
            "title": TITLES.get(status, "Error"), "status": status, "detail": detail, "code": code}
    body.update({k: v for k, v in (extra or {}).items() if k not in body})
    return body


def problem(status: int, code: str, detail: str, *, headers: dict[str, str] | None = None,
            **extra: Any) -> Response:
    return Response(content=msgspec.to_builtins(problem_body(status, code, detail, extra)),
                    status_code=status, media_type=PROBLEM_JSON, headers=headers)


def domain_problem_body(exc: errors.DomainError) -> tuple[int, dict[str, Any]]:
    status = DOMAIN_STATUS.get(exc.code, 409)
    if isinstance(exc, errors.ValidationError):
        extra = {"errors": [{"field": f, "message": m} for f, m in exc.errors]}
        return status, problem_body(status, exc.code, "the request is not valid", extra)
    wanted = PUBLIC_DETAILS.get(exc.code, ())
    extra = {k: v for k, v in exc.details.items() if k in wanted}
    if exc.code == "card_declined":
        extra.setdefault("decline_code", None)
    if "status" in extra:
        extra["checkout_status"] = extra.pop("status")
    return status, problem_body(status, exc.code, exc.message, msgspec.to_builtins(extra))


def on_domain_error(_: Request, exc: errors.DomainError) -> Response:
    status, body = domain_problem_body(exc)
    headers = {}
    if exc.code == "payment_provider_unavailable":  # CONTRACT §3.1: 503 with Retry-After
        headers["Retry-After"] = str(int(exc.details.get("retry_after") or 1))
    return Response(content=body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def on_api_error(_: Request, exc: ApiError) -> Response:
    return problem(exc.status, exc.code, exc.detail, headers=exc.headers, **exc.extra)


_AT = re.compile(r"^(?P<msg>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)


# handler argument names that stand for a differently named wire field
_WIRE_NAMES = {"idempotency_key_header": "Idempotency-Key"}


def _field(path: str, key: str | None) -> str:
    if path:
        return path.lstrip(".")
    return _WIRE_NAMES.get(key, key) if key else "body"


def validation_errors(exc: ValidationException) -> list[dict[str, str]]:
    extra = exc.extra if isinstance(exc.extra, list) else []
    found: list[dict[str, str]] = []
    for item in extra:
        if not isinstance(item, dict):
            continue
        match = _AT.match(str(item.get("message", "invalid")))
        message = match.group("msg") if match else str(item.get("message"))
        path = (match.group("path") if match else None) or ""
        key = item.get("key")
        if "Object contains unknown field" in message:
            unknown = re.search(r"`([^`]*)`", message)
            name = unknown.group(1) if unknown else "?"
            field = f"{path.lstrip('.')}.{name}".lstrip(".") if path else name
            found.append({"field": field, "message": "unknown field"})
            continue
        missing = re.search(r"Object missing required field `([^`]*)`", message)
        if missing:
            # litestar gives the parent as ``key`` (``billing_address``) rather than as a path
            parent = path.lstrip(".") or (key if key and key != "data" else "")
            field = f"{parent}.{missing.group(1)}".lstrip(".")
            found.append({"field": field, "message": "is required"})
            continue
        found.append({"field": _field(path, key if key and key != "data" else None),
                      "message": message})
    return found or [{"field": "body", "message": exc.detail or "invalid"}]


def _is_malformed(exc: ValidationException) -> bool:
    text = " ".join(str(i.get("message", "")) for i in exc.extra if isinstance(i, dict)) \
        if isinstance(exc.extra, list) else ""
    text += " " + (exc.detail or "")
    return any(s in text for s in ("JSON is malformed", "Input data was truncated",
                                   "Malformed", "invalid character", "Invalid JSON"))


_MISSING = re.compile(r"^Missing required (\w+) parameter '([^']*)'")


def on_http_error(request: Request, exc: HTTPException) -> Response:
    if isinstance(exc, ValidationException):
        missing = _MISSING.match(exc.detail or "")
        if missing and missing.group(1) == "header" and missing.group(2).lower() == "idempotency-key":
            return problem(400, "idempotency_key_required", "this route needs an Idempotency-Key header")
        if missing and missing.group(1) == "header" and missing.group(2).lower() == "stripe-signature":
            return problem(400, "invalid_signature", "the Stripe-Signature header is missing")
        if missing:
            return problem(422, "validation_error", "the request is not valid",
                           errors=[{"field": missing.group(2), "message": "is required"}])
        if _is_malformed(exc):
            return problem(400, "malformed_json", "the body is not valid JSON")
        return problem(422, "validation_error", "the request is not valid",
                       errors=validation_errors(exc))
    status = exc.status_code
    if status == 400:  # litestar's own 400s outside validation are body decode failures
        return problem(400, "malformed_json", "the body is not valid JSON")
    if status >= 500:
        log.error("http_error", status=status, path=request.url.path)
        return problem(status, HTTP_CODES.get(status, "internal_error"), "the server failed")
    code = HTTP_CODES.get(status, "bad_request")
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail else TITLES.get(status, "error")
    if status == 413:
        detail = "the request body is larger than 1 MiB"
    # RFC 9110 §15.5.6: a 405 lists the methods the resource has (litestar puts them on the
    # exception as ``Allow``)
    allow = {k: v for k, v in (exc.headers or {}).items() if k.lower() == "allow"} if status == 405 else None
    return problem(status, code, detail, headers=allow or None)


def on_invalid_cursor(_: Request, __: InvalidCursorError) -> Response:
    return problem(422, "validation_error", "the request is not valid",
                   errors=[{"field": "cursor", "message": "is not a cursor this API issued"}])


def on_unexpected(request: Request, exc: Exception) -> Response:
    log.error("unhandled_error", path=request.url.path, error_type=type(exc).__name__,
              error=str(exc)[:500])
    return problem(HTTP_500_INTERNAL_SERVER_ERROR, "internal_error",
                   "an unexpected error occurred; it has been logged")


EXCEPTION_HANDLERS = {
    errors.DomainError: on_domain_error,
    ApiError: on_api_error,
    InvalidCursorError: on_invalid_cursor,
    HTTPException: on_http_error,
    Exception: on_unexpected,
}
