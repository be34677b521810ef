"""How the console answers errors: a redirect to the login page without a session, and an HTML
page (never a stack trace) with the status the API would give for the same error."""

from __future__ import annotations

from urllib.parse import urlencode

import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, PermissionDeniedException
from litestar.response import Redirect

from api.console.render import render
from api.console.security import LoginRequiredError
from api.problems import domain_problem_body
from checkout_saga import errors

log = structlog.get_logger(__name__)


def _login(_: Request, exc: LoginRequiredError) -> Response:
    return Redirect("/console/login?" + urlencode({"next": exc.next_path}), status_code=303)


def _domain(request: Request, exc: errors.DomainError) -> Response:
    status, _ = domain_problem_body(exc)
    return render("error.html", request, http_status=status, title=exc.code.replace("_", " "),
                  detail=exc.message, back="/console")


def forbidden(request: Request, exc: PermissionDeniedException) -> Response:
    return render("error.html", request, http_status=403, title="Forbidden",
                  detail=f"{exc.detail}. Reload the page and try again.", back="/console")


def _http(request: Request, exc: HTTPException) -> Response:
    return render("error.html", request, http_status=exc.status_code, title=str(exc.status_code),
                  detail=exc.detail, back="/console")


def _unexpected(request: Request, exc: Exception) -> Response:
    log.error("console_error", path=request.url.path, error=repr(exc))
    return render("error.html", request, http_status=500, title="Something went wrong",
                  detail="The error was logged.", back="/console")


EXCEPTION_HANDLERS = {
    LoginRequiredError: _login,
    errors.DomainError: _domain,
    PermissionDeniedException: forbidden,
    HTTPException: _http,
    Exception: _unexpected,
}
