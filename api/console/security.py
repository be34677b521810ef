"""Who may use the console: an admin key entered once on the login page becomes an encrypted,
HttpOnly, SameSite=Strict session cookie scoped to ``/console`` holding only the key's id
(never the key). Every form carries a CSRF token (litestar's CSRF middleware, on the console
router only: the JSON API and the Stripe webhook never see it).

The session and CSRF secrets are derived from the admin keys, so every server process of a
deployment accepts the same cookies, and changing the admin keys signs every operator out."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

from litestar.config.csrf import CSRFConfig
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.session.client_side import CookieBackendConfig

from api.auth import Keys, key_id

SESSION_COOKIE = "checkout_saga_console"
CSRF_COOKIE = "checkout_saga_console_csrf"
COOKIE_PATH = "/console"
SESSION_HOURS = 8
PUBLIC = "console_public"  # handler opt: reachable without a session (login, static)


class LoginRequiredError(Exception):
    """No valid admin session: the console answers with a redirect to its login page."""

    def __init__(self, next_path: str = "/console") -> None:
        super().__init__("login required")
        self.next_path = next_path


def _derived(purpose: str, admin_keys: tuple[str, ...]) -> bytes:
    if not admin_keys:  # nobody can log in; the secret only has to be unguessable
        return secrets.token_bytes(32)
    material = "\n".join(sorted(admin_keys)).encode()
    return hmac.new(material, f"checkout-saga console {purpose}".encode(), hashlib.sha256).digest()


def session_config(admin_keys: tuple[str, ...]) -> CookieBackendConfig:
    return CookieBackendConfig(
        secret=_derived("session", admin_keys), key=SESSION_COOKIE, path=COOKIE_PATH,
        max_age=SESSION_HOURS * 3600, httponly=True, samesite="strict", secure=False)


def csrf_config(admin_keys: tuple[str, ...]) -> CSRFConfig:
    return CSRFConfig(secret=_derived("csrf", admin_keys).hex(), cookie_name=CSRF_COOKIE,
                      cookie_path=COOKIE_PATH, cookie_httponly=True, cookie_samesite="strict")


def admin_key_id(keys: Keys, entered: str) -> str | None:
    """The id of ``entered`` if it is one of the admin keys (compared in constant time)."""
    found = False
    for key in keys.admin:  # no early exit: the time taken does not depend on which matched
        found |= hmac.compare_digest(entered.encode(), key.encode())
    return key_id(entered) if found else None


def new_session(operator: str) -> dict[str, str]:
    return {"operator": operator, "signed_in_at": datetime.now(UTC).isoformat()}


def operator_of(connection: ASGIConnection) -> str | None:
    """The signed-in operator's key id, if the session is valid for the current admin keys."""
    session = connection.scope.get("session") or {}
    operator, at = session.get("operator"), session.get("signed_in_at")
    if not isinstance(operator, str) or not isinstance(at, str):
        return None
    keys: Keys = connection.app.state.api_keys
    if operator not in {key_id(k) for k in keys.admin}:
        return None  # the key was removed: its sessions end with it
    try:
        signed_in = datetime.fromisoformat(at)
    except ValueError:
        return None
    if datetime.now(UTC) - signed_in > timedelta(hours=SESSION_HOURS):
        return None
    return operator


def console_guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    if handler.opt.get(PUBLIC):
        return
    if operator_of(connection) is None:
        raise LoginRequiredError(connection.url.path if connection.method == "GET" else "/console")
