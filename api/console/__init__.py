"""The operator console (CONTRACT §3.12): server-rendered pages at ``/console`` and the static
files they and ``/schema`` use, all served from this package (no CDN, no build step).

``console_routes(keys)`` gives the app its two routers: the console itself (session and CSRF
middleware, the admin-session guard and HTML error pages on it alone) and the static files.
``schema_render_plugin()`` renders ``/schema`` with the vendored Scalar bundle."""

from __future__ import annotations

from pathlib import Path

from litestar import Router
from litestar.datastructures import CacheControlHeader
from litestar.openapi.plugins import ScalarRenderPlugin
from litestar.static_files import create_static_files_router

from api.auth import Keys
from api.console import security
from api.console.actions import ConsoleCommands, ConsoleSession
from api.console.errors import EXCEPTION_HANDLERS
from api.console.middleware import console_middleware
from api.console.pages import ConsolePages

STATIC_DIR = Path(__file__).parent / "static"
STATIC_PATH = "/console/static"
SCALAR_JS = f"{STATIC_PATH}/vendor/scalar/standalone.js"
SCHEMA_CSS = f"{STATIC_PATH}/schema.css"
NO_FAVICON = "<link rel='icon' href='data:,'>"  # no request for a favicon anywhere


def console_routes(keys: Keys) -> list[Router]:
    console = Router(path="/console", route_handlers=[ConsolePages, ConsoleSession, ConsoleCommands],
                     middleware=console_middleware(keys.admin), guards=[security.console_guard],
                     exception_handlers=EXCEPTION_HANDLERS, include_in_schema=False)
    static = create_static_files_router(
        path=STATIC_PATH, directories=[STATIC_DIR], name="console_static",
        include_in_schema=False, cache_control=CacheControlHeader(max_age=3600))
    return [console, static]


def schema_render_plugin() -> ScalarRenderPlugin:
    """``/schema`` with Scalar served by the product: it works on a machine with no internet."""
    return ScalarRenderPlugin(js_url=SCALAR_JS, css_url=SCHEMA_CSS, favicon=NO_FAVICON,
                              options={"withDefaultFonts": False, "telemetry": False})
