"""Stripe-shaped errors.

The stripe SDK picks its exception class from the HTTP status and `error.type`
(429 -> RateLimitError, 400/404 + idempotency_error -> IdempotencyError, 400/404 ->
InvalidRequestError, 401 -> AuthenticationError, 402 -> CardError, else APIError),
so each error here carries exactly the status Stripe would use.
"""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]


class ApiError(Exception):
    """An error reply. `replayable` is False for errors raised before the endpoint
    started executing (bad parameters), which Stripe does not store under the
    idempotency key."""

    def __init__(
        self,
        status: int,
        type_: str,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
        payment_intent: Json | None = None,
        extra: Json | None = None,
        replayable: bool = True,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.type = type_
        self.message = message
        self.code = code
        self.param = param
        self.decline_code = decline_code
        self.payment_intent = payment_intent
        self.extra = extra or {}
        self.replayable = replayable

    def body(self) -> Json:
        error: Json = {"type": self.type, "message": self.message}
        for key in ("code", "param", "decline_code", "payment_intent"):
            value = getattr(self, key)
            if value is not None:
                error[key] = value
        if self.code:
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        error.update(self.extra)
        return {"error": error}


def invalid_request(
    message: str, *, code: str | None = None, param: str | None = None, status: int = 400
) -> ApiError:
    return ApiError(status, "invalid_request_error", message, code=code, param=param)


def parameter_missing(param: str) -> ApiError:
    return ApiError(
        400,
        "invalid_request_error",
        f"Missing required param: {param}.",
        code="parameter_missing",
        param=param,
        replayable=False,
    )


def parameter_invalid(param: str, message: str, code: str = "parameter_invalid_string") -> ApiError:
    return ApiError(400, "invalid_request_error", message, code=code, param=param, replayable=False)


def parameter_unknown(param: str) -> ApiError:
    return ApiError(
        400,
        "invalid_request_error",
        f"Received unknown parameter: {param}",
        code="parameter_unknown",
        param=param,
        replayable=False,
    )


def resource_missing(kind: str, object_id: str, param: str = "id") -> ApiError:
    return ApiError(
        404,
        "invalid_request_error",
        f"No such {kind}: '{object_id}'",
        code="resource_missing",
        param=param,
    )


def missing_reference(label: str, object_id: str, param: str) -> ApiError:
    """A parameter naming an object that does not exist (`customer=cus_nope`): 400, where
    a missing object in the path is 404."""
    return ApiError(
        400,
        "invalid_request_error",
        f"No such {label}: '{object_id}'",
        code="resource_missing",
        param=param,
    )


_PAST = {
    "authenticate": "authenticated",
    "cancel": "canceled",
    "capture": "captured",
    "confirm": "confirmed",
    "dispute": "disputed",
    "refund": "refunded",
    "update": "updated",
}


def unexpected_state(intent: Json, action: str, allowed: tuple[str, ...]) -> ApiError:
    return ApiError(
        400,
        "invalid_request_error",
        f"You cannot {action} this PaymentIntent because it has a status of {intent['status']}. "
        f"Only a PaymentIntent with one of the following statuses may be {_PAST.get(action, action)}: "
        f"{', '.join(allowed)}.",
        code="payment_intent_unexpected_state",
        payment_intent=intent,
    )


def not_found_route(method: str, path: str) -> ApiError:
    return ApiError(
        404,
        "invalid_request_error",
        f"Unrecognized request URL ({method}: {path}).",
        replayable=False,
    )


def authentication_error(message: str) -> ApiError:
    return ApiError(401, "authentication_error", message, replayable=False)


def api_error(message: str = "An unknown error occurred (emulated).") -> ApiError:
    return ApiError(500, "api_error", message, replayable=False)


def rate_limited() -> ApiError:
    return ApiError(
        429,
        "invalid_request_error",
        "Too many requests hit the API too quickly (emulated).",
        code="rate_limit",
        replayable=False,
    )


def idempotency_mismatch(key: str) -> ApiError:
    return ApiError(
        400,
        "idempotency_error",
        f"Keys for idempotent requests can only be used with the same parameters they were "
        f"first used with. Try using a key other than '{key}' if you meant to execute a "
        f"different request.",
        replayable=False,
    )


def idempotency_in_use(key: str) -> ApiError:
    return ApiError(
        409,
        "invalid_request_error",
        f"There is currently another in-progress request using this Idempotent Key "
        f"('{key}'). Try again later.",
        code="idempotency_key_in_use",
        replayable=False,
    )
