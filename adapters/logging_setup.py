"""Logging for every process (CONTRACT §1 ``CHECKOUT_SAGA_LOG_FORMAT``): structlog renders
both our own events and the standard library's records (uvicorn, the Stripe SDK, httpx,
APScheduler, eventsourcing) through one ``ProcessorFormatter`` on stderr, so in ``json``
every line any process writes is one JSON object, and in ``console`` one readable line.

Call ``configure_logging`` once at the start of each process (children included)."""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

# Libraries whose INFO lines say nothing an operator needs: one per HTTP call (httpx; the
# Stripe SDK's requests are logged by the gateway with their outcome), two per worker tick
# (APScheduler's executor). Their warnings and errors still show.
_DEMOTED = ("apscheduler.executors", "httpx", "httpcore", "stripe")  # and their children

_SHARED: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


class _DemoteChattyInfo(logging.Filter):
    """INFO from a chatty library becomes DEBUG (dropped unless the level is DEBUG)."""

    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.INFO and record.name.startswith(_DEMOTED):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return record.levelno >= self.level


def renderer(log_format: str) -> Any:
    if log_format == "json":
        return structlog.processors.JSONRenderer()
    return structlog.dev.ConsoleRenderer(colors=False)


def configure_logging(log_format: str = "json", level: int = logging.INFO) -> None:
    structlog.configure(
        processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(level),
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_SHARED,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info, renderer(log_format)],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    handler.addFilter(_DemoteChattyInfo(level))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi"):
        library = logging.getLogger(name)  # uvicorn's own handlers would write plain text
        library.handlers.clear()
        library.propagate = True
    logging.captureWarnings(True)
