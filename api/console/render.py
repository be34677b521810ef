"""HTML responses of the console: Jinja2 templates from the package (autoescaped, strict about
undefined names), with the CSRF token and the signed-in operator in every page's context, and
headers that keep the pages to their own origin (CSP: no inline script, no other origin)."""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from litestar import Request, Response
from litestar.utils.scope.state import ScopeState

from api.console.security import operator_of

HTML = "text/html; charset=utf-8"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                               "script-src 'self'; form-action 'self'; frame-ancestors 'none'; "
                               "base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@cache
def environment() -> Environment:
    return Environment(loader=PackageLoader("api.console", "templates"),
                       autoescape=select_autoescape(default=True, default_for_string=True),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def csrf_token(request: Request) -> str:
    token = ScopeState.from_scope(request.scope).csrf_token
    return token if isinstance(token, str) else ""


def render(template: str, request: Request, *, http_status: int = 200, **context: Any) -> Response:
    html = environment().get_template(template).render(
        csrf_token=csrf_token(request), operator=operator_of(request), path=request.url.path,
        **context)
    return Response(content=html, status_code=http_status, media_type=HTML, headers=SECURITY_HEADERS)
