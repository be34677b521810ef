"""The console's forms: log in, log out, and the operator commands of CONTRACT §3.5. A button
calls the same application command as the API (``CheckoutService.retry`` / ``resolve``) with
the operator's key id and note; the command records the event, the handler only redirects."""

from __future__ import annotations

from urllib.parse import quote

import structlog
from anyio import to_thread
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect

from api.console.render import render
from api.console.security import PUBLIC, admin_key_id, new_session, operator_of
from api.context import checkouts_of

log = structlog.get_logger(__name__)

MAX_NOTE = 2000


def _safe_next(raw: object) -> str:
    """Only a console path: never another site after logging in (no open redirect)."""
    if isinstance(raw, str) and (raw == "/console" or raw.startswith(("/console/", "/console?"))) and "\\" not in raw:
        return raw
    return "/console"


async def _note(request: Request) -> str:
    form = await request.form()
    note = form.get("note")
    return note.strip()[:MAX_NOTE] if isinstance(note, str) else ""


class ConsoleSession(Controller):
    path = "/"
    include_in_schema = False

    @get("/login", opt={PUBLIC: True})
    async def login_page(self, request: Request) -> Response:
        if operator_of(request) is not None:
            return Redirect(_safe_next(request.query_params.get("next")), status_code=303)
        return render("login.html", request, next=_safe_next(request.query_params.get("next")),
                      error=None)

    @post("/login", opt={PUBLIC: True})
    async def login(self, request: Request) -> Response:
        form = await request.form()
        entered, target = form.get("key"), _safe_next(form.get("next"))
        operator = admin_key_id(request.app.state.api_keys, entered.strip()) \
            if isinstance(entered, str) and entered.strip() else None
        if operator is None:
            log.warning("console_login_refused")
            return render("login.html", request, http_status=401, next=target,
                          error="That is not an admin key.")
        request.set_session(new_session(operator))
        log.info("console_login", operator=operator)
        return Redirect(target, status_code=303)

    @post("/logout")
    async def logout(self, request: Request) -> Response:
        log.info("console_logout", operator=operator_of(request))
        request.clear_session()
        return Redirect("/console/login", status_code=303)


class ConsoleCommands(Controller):
    path = "/checkouts"
    include_in_schema = False

    @post("/{checkout_id:str}/retry")
    async def retry(self, request: Request, checkout_id: FromPath[str]) -> Response:
        note, operator = await _note(request) or None, operator_of(request)
        await to_thread.run_sync(lambda: checkouts_of(request).retry(
            checkout_id, actor=operator, note=note))
        return Redirect(f"/console/checkouts/{quote(checkout_id)}", status_code=303)

    @post("/{checkout_id:str}/resolve")
    async def resolve(self, request: Request, checkout_id: FromPath[str]) -> Response:
        note, operator = await _note(request), operator_of(request)
        if not note:
            return render("error.html", request, http_status=422, title="A note is required",
                          detail="Say why the checkout is resolved (e.g. refunded by hand).",
                          back=f"/console/checkouts/{quote(checkout_id)}")
        await to_thread.run_sync(lambda: checkouts_of(request).resolve(
            checkout_id, actor=operator, note=note))
        return Redirect(f"/console/checkouts/{quote(checkout_id)}", status_code=303)
