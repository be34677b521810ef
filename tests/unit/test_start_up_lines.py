"""Start-up lines (`migrations applied`, `checkout-saga API: …`) are for a human on a
console; in JSON mode they are log events like every other line."""

from __future__ import annotations

from types import SimpleNamespace

from structlog.testing import capture_logs

from cli.announce import tell as _tell


def test_on_a_console_the_line_is_plain_text_for_a_human(capsys):
    with capture_logs() as logged:
        _tell(SimpleNamespace(log_format="console"), "migrations applied", "migrations_applied")

    assert capsys.readouterr().out == "migrations applied\n"
    assert logged == []


def test_in_json_mode_the_line_is_a_log_event_and_nothing_is_printed(capsys):
    with capture_logs() as logged:
        _tell(SimpleNamespace(log_format="json"), "checkout-saga API: http://h:1", "serving",
              url="http://h:1")

    assert capsys.readouterr().out == ""
    assert logged == [{"event": "serving", "url": "http://h:1", "log_level": "info"}]
