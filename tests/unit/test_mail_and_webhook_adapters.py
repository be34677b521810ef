"""The e-mail and webhook adapters without a network: SMTP URL parsing, the mail settings,
rendering (multipart, attachments, Message-ID), the .eml folder, and the webhook signature."""

from __future__ import annotations

import email
import hashlib
import hmac
from email import policy

import pytest

from adapters.mail import EmlDirectoryMailer, MailRenderer, SmtpUrlError, parse_smtp_url
from adapters.settings import ConfigError, load_settings
from adapters.webhook_sender import signature
from checkout_saga.notification_ports import Document, OutgoingMail

CONTEXT = {"order": {"order_id": "ord_1", "order_number": "ORD-2026-1", "currency": "usd",
                     "amount_total": 2500, "amount_captured": 2500, "amount_refunded": 0,
                     "status": "paid", "checkout_id": "chk_1",
                     "items": [{"sku": "MUG", "quantity": 2, "unit_amount": 1250}]}}


def mail(**changes) -> OutgoingMail:
    return OutgoingMail(**{"notification_id": "ntf_abc", "template": "order_confirmation",
                           "to": "ada@example.com", "message_id": "<ntf_abc@example.com>",
                           "context": CONTEXT, **changes})


def test_smtp_urls_say_host_port_tls_and_credentials():
    plain = parse_smtp_url("smtp://mail.local:2525")
    tls = parse_smtp_url("smtp+starttls://me%40shop:p%3Ass@mail.local")
    assert (plain.host, plain.port, plain.security, plain.username) == ("mail.local", 2525, "none", None)
    assert (tls.port, tls.security, tls.username, tls.password) == (587, "starttls", "me@shop", "p:ss")
    assert "p:ss" not in repr(tls)


@pytest.mark.parametrize("url", ["http://mail.local", "smtp://", "smtp://h:99999", "smtp://h/x"])
def test_a_bad_smtp_url_is_refused(url):
    with pytest.raises(SmtpUrlError):
        parse_smtp_url(url)


@pytest.mark.parametrize("name,value", [("CHECKOUT_SAGA_SMTP_URL", "smtp://user:hunter2@h:x"),
                                        ("CHECKOUT_SAGA_MAIL_FROM", "not an address"),
                                        ("CHECKOUT_SAGA_ADMIN_EMAIL", "ops@")])
def test_bad_mail_settings_stop_start_up_naming_the_variable(name, value):
    with pytest.raises(ConfigError) as raised:
        load_settings({name: value}, dotenv=None)
    assert raised.value.variable == name and "hunter2" not in str(raised.value)


def test_mail_settings_default_to_files_and_no_alerts():
    settings = load_settings({}, dotenv=None)
    assert (settings.smtp_url, settings.mail_from, settings.admin_email) == (None, "shop@localhost", None)
    given = load_settings({"CHECKOUT_SAGA_SMTP_URL": "smtp://u:hunter2@h:25",
                           "CHECKOUT_SAGA_ADMIN_EMAIL": "ops@example.com"}, dotenv=None)
    assert given.admin_email == "ops@example.com" and "hunter2" not in repr(given)


def test_a_mail_is_text_and_html_with_the_invoice_attached_when_there_is_one():
    invoice = Document(filename="INV-2026-1.pdf", content=b"%PDF-1.7 fake")
    message = MailRenderer("shop@example.com").render(mail(attachments=(invoice,)))

    assert message["Message-ID"] == "<ntf_abc@example.com>" and "ORD-2026-1" in message["Subject"]
    parts = [p.get_content_type() for p in message.walk()]
    assert parts == ["multipart/mixed", "multipart/alternative", "text/plain", "text/html",
                     "application/pdf"]
    assert "25.00 USD" in message.get_body(("plain",)).get_content()


def test_without_smtp_each_mail_is_an_eml_file_named_by_its_notification(tmp_path):
    mailer = EmlDirectoryMailer(tmp_path / "outbox", MailRenderer("shop@example.com"))

    mailer.send(mail())
    mailer.send(mail())  # a retry overwrites the same file

    [written] = list((tmp_path / "outbox").iterdir())
    assert written.name == "ntf_abc.eml"
    parsed = email.message_from_bytes(written.read_bytes(), policy=policy.default)
    assert parsed["To"] == "ada@example.com"


def test_the_webhook_signature_is_hmac_sha256_over_the_timestamp_and_body():
    header = signature("whsec_x", b'{"id":"evt_1"}', 1700000000)
    expected = hmac.new(b"whsec_x", b'1700000000.{"id":"evt_1"}', hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"

