"""Lines for whoever started a command: plain text on a console, JSON log events otherwise
(in ``json`` mode every line a process writes is one JSON object)."""

from __future__ import annotations

import sys

import structlog

log = structlog.get_logger("cli")


def tell(settings, text: str, event: str, **fields) -> None:
    if settings.log_format == "json":
        log.info(event, **fields)
        return
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
