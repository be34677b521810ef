"""The console router's middleware: the session cookie, then CSRF on every unsafe request. A
refused CSRF check is answered here, as the console's 403 page (raised from a middleware, the
error would pass the request log as a 500 before the app's handler turned it into a 403)."""

from __future__ import annotations

from litestar import Request
from litestar.config.csrf import CSRFConfig
from litestar.exceptions import PermissionDeniedException
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.middleware.session import SessionMiddleware
from litestar.middleware.session.client_side import ClientSideSessionBackend, CookieBackendConfig
from litestar.types import ASGIApp, Receive, Scope, Send

from api.console.errors import forbidden
from api.console.security import csrf_config, session_config


def _session(app: ASGIApp, config: CookieBackendConfig) -> SessionMiddleware:
    # built with the route's stack: litestar deep-copies a Router with its middleware's
    # arguments, and the backend's cipher cannot be copied
    return SessionMiddleware(app, backend=ClientSideSessionBackend(config=config))


class CsrfRefusedAsPage:
    def __init__(self, app: ASGIApp, config: CSRFConfig) -> None:
        self.csrf = CSRFMiddleware(app, config)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.csrf(scope, receive, send)
        except PermissionDeniedException as exc:
            request: Request = Request(scope, receive)
            response = forbidden(request, exc)
            await response.to_asgi_response(app=None, request=request)(scope, receive, send)


def console_middleware(admin_keys: tuple[str, ...]) -> list[DefineMiddleware]:
    """Session first (the CSRF refusal page still knows who is signed in), then CSRF."""
    return [DefineMiddleware(_session, config=session_config(admin_keys)),
            DefineMiddleware(CsrfRefusedAsPage, config=csrf_config(admin_keys))]
