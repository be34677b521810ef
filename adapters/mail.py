"""E-mail: Jinja2 templates (text + HTML, under ``adapters/templates/mail``) rendered into a
multipart message, then handed to SMTP or, with no SMTP configured, written as an ``.eml``
file under ``./var/outbox/`` (so ``make run`` works with nothing else installed).

SMTP is the standard library's ``smtplib`` + ``email``: it speaks plain SMTP, STARTTLS,
implicit TLS and AUTH, and is maintained with Python itself; an asyncio client would buy
nothing in a worker thread that sends one mail at a time with a timeout."""

from __future__ import annotations

import os
import smtplib
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

import msgspec
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from checkout_saga.notification_ports import OutgoingMail, SendError

TEMPLATES = Path(__file__).parent / "templates" / "mail"
DEFAULT_OUTBOX_DIR = Path("var/outbox")
SMTP_TIMEOUT_SECONDS = 10.0
SCHEMES = ("smtp", "smtp+starttls", "smtps")


class SmtpUrlError(ValueError):
    pass


class SmtpConfig(msgspec.Struct, frozen=True, kw_only=True):
    host: str
    port: int
    security: str  # none | starttls | tls
    username: str | None = None
    password: str | None = None

    def __repr__(self) -> str:  # never print the password
        return f"SmtpConfig({self.security}://{self.host}:{self.port}, user={self.username!r})"


def parse_smtp_url(url: str) -> SmtpConfig:
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise SmtpUrlError(f"scheme must be one of {', '.join(SCHEMES)}")
    try:
        port = parts.port
    except ValueError:
        raise SmtpUrlError("port must be a number between 0 and 65535") from None
    if not parts.hostname:
        raise SmtpUrlError("a host is required")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise SmtpUrlError("only smtp://[user:pass@]host:port is understood")
    security = {"smtp": "none", "smtp+starttls": "starttls", "smtps": "tls"}[parts.scheme]
    default_port = {"none": 25, "starttls": 587, "tls": 465}[security]
    return SmtpConfig(host=parts.hostname, port=port or default_port, security=security,
                      username=unquote(parts.username) if parts.username else None,
                      password=unquote(parts.password) if parts.password else None)


class MailRenderer:
    def __init__(self, sender: str, templates: Path = TEMPLATES) -> None:
        self.sender = sender
        self.env = Environment(loader=FileSystemLoader(str(templates)), undefined=StrictUndefined,
                               autoescape=select_autoescape(["html"]), keep_trailing_newline=True)
        self.env.filters["money"] = money

    def render(self, mail: OutgoingMail) -> EmailMessage:
        context = {**mail.context, "notification_id": mail.notification_id}
        subject = self.env.get_template(f"{mail.template}.subject.txt").render(context).strip()
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = mail.to
        message["Subject"] = subject
        message["Message-ID"] = mail.message_id
        message["Date"] = format_datetime(datetime.now(UTC))
        message.set_content(self.env.get_template(f"{mail.template}.txt").render(context))
        message.add_alternative(self.env.get_template(f"{mail.template}.html").render(context),
                                subtype="html")
        for doc in mail.attachments:
            maintype, _, subtype = doc.content_type.partition("/")
            message.add_attachment(doc.content, maintype=maintype, subtype=subtype,
                                   filename=doc.filename)
        return message


def money(amount: int | None, currency: str = "usd") -> str:
    if amount is None:
        return ""
    return f"{amount // 100}.{amount % 100:02d} {currency.upper()}"


class SmtpMailer:
    """Implements ``Mailer`` over SMTP (STARTTLS and AUTH when the URL says so)."""

    def __init__(self, config: SmtpConfig, renderer: MailRenderer,
                 timeout: float = SMTP_TIMEOUT_SECONDS) -> None:
        self.config = config
        self.renderer = renderer
        self.timeout = timeout

    def send(self, mail: OutgoingMail) -> None:
        message = self.renderer.render(mail)
        c = self.config
        try:
            if c.security == "tls":
                client: smtplib.SMTP = smtplib.SMTP_SSL(c.host, c.port, timeout=self.timeout,
                                                       context=ssl.create_default_context())
            else:
                client = smtplib.SMTP(c.host, c.port, timeout=self.timeout)
            with client:
                if c.security == "starttls":
                    client.starttls(context=ssl.create_default_context())
                if c.username:
                    client.login(c.username, c.password or "")
                client.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            # the exception's text names the server's answer, never the password
            raise SendError(f"smtp {c.host}:{c.port}: {type(exc).__name__}: {_reply(exc)}") from None


def _reply(exc: Exception) -> str:
    code = getattr(exc, "smtp_code", None)
    text = getattr(exc, "smtp_error", None)
    if code is not None:
        return f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"
    return str(exc)[:200]


class EmlDirectoryMailer:
    """Implements ``Mailer`` by writing ``<notification id>.eml`` (atomically) to a folder."""

    def __init__(self, directory: Path, renderer: MailRenderer) -> None:
        self.directory = directory
        self.renderer = renderer

    def send(self, mail: OutgoingMail) -> None:
        message = self.renderer.render(mail)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            target = self.directory / f"{mail.notification_id}.eml"
            partial = target.with_suffix(f".eml.{os.getpid()}.tmp")
            partial.write_bytes(bytes(message))
            partial.replace(target)
        except OSError as exc:
            raise SendError(f"writing {self.directory}: {exc.strerror or exc}") from None


def mailer_for(smtp_url: str | None, sender: str, outbox_dir: Path = DEFAULT_OUTBOX_DIR):
    renderer = MailRenderer(sender)
    if smtp_url:
        return SmtpMailer(parse_smtp_url(smtp_url), renderer)
    return EmlDirectoryMailer(outbox_dir, renderer)


def mail_domain(sender: str) -> str:
    return sender.rpartition("@")[2] or "localhost"
