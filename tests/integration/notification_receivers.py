"""Real receivers on loopback for the notification tests: an SMTP server (aiosmtpd) that keeps
what it accepts, and an HTTP endpoint that answers with programmed statuses."""

from __future__ import annotations

import email
import socket
import threading
from email import policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpSink:
    """``start()``/``stop()`` on a fixed port, so a test can take the server down and up."""

    def __init__(self, *, login: tuple[str, str] | None = None) -> None:
        self.login = login  # require AUTH with these credentials (over plain SMTP, for tests)
        self.logins: list[str] = []
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self.raw: list[bytes] = []
        self._controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.raw.append(envelope.original_content or envelope.content)
        self.messages.append(email.message_from_bytes(envelope.original_content or envelope.content,
                                                      policy=policy.default))
        return "250 OK"

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        user = auth_data.login.decode()
        ok = (user, auth_data.password.decode()) == self.login
        if ok:
            self.logins.append(user)
        return AuthResult(success=ok)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> SmtpSink:
        options = {}
        if self.login is not None:
            options = {"authenticator": self._authenticate, "auth_required": True,
                       "auth_require_tls": False}
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, **options)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


class WebhookReceiver:
    def __init__(self, statuses: list[int] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.requests: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's hook name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
