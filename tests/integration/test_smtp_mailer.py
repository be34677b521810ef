"""The SMTP mailer against a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import pytest

from adapters.mail import MailRenderer, SmtpMailer, parse_smtp_url
from checkout_saga.notification_ports import OutgoingMail
from tests.integration.notification_receivers import SmtpSink

MAIL = OutgoingMail(notification_id="ntf_abc", template="checkout_needs_attention_alert",
                    to="ops@example.com", message_id="<ntf_abc@example.com>",
                    context={"checkout": {"checkout_id": "chk_1", "step": "cancel",
                                          "reason": "stuck", "order_id": None}})


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_smtp_with_credentials_logs_in_before_sending():
    sink = SmtpSink(login=("shop", "p@ss word")).start()
    try:
        url = f"smtp://shop:p%40ss%20word@127.0.0.1:{sink.port}"
        SmtpMailer(parse_smtp_url(url), MailRenderer("shop@example.com")).send(MAIL)
    finally:
        sink.stop()

    assert sink.logins == ["shop"]
    [message] = sink.messages
    assert message["Message-ID"] == "<ntf_abc@example.com>" and "chk_1" in message["Subject"]
