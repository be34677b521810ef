"""APScheduler as the timers' cache: a ``BackgroundScheduler`` with a periodic sweep (the
safety net), a one-shot job at the next known deadline (for accuracy), and any periodic jobs
the worker adds (reconciliation). Nothing is persisted in the scheduler: the deadlines live
in the event store and the due-work index, so a lost scheduler loses nothing."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

import structlog
from apscheduler.schedulers.background import BackgroundScheduler

log = structlog.get_logger("scheduler")

SWEEP_JOB = "sweep"
NEXT_DEADLINE_JOB = "next_deadline"
# APScheduler's own lines ("skipped: maximum number of running instances reached" whenever a
# sweep outlasts the interval) are expected here; only its errors are worth a log line.
_APSCHEDULER_LOG = logging.getLogger("adapters.scheduler.apscheduler")
_APSCHEDULER_LOG.setLevel(logging.ERROR)


class Timers:
    def __init__(self, sweep: Callable[[], None], *, interval: float) -> None:
        self._sweep = sweep
        self.interval = interval
        self.scheduler = BackgroundScheduler(timezone=UTC, logger=_APSCHEDULER_LOG, job_defaults={
            "coalesce": True, "max_instances": 1, "misfire_grace_time": None})

    def start(self) -> None:
        self.scheduler.add_job(self._sweep, "interval", seconds=self.interval, id=SWEEP_JOB,
                               next_run_time=datetime.now(UTC), replace_existing=True)
        self.scheduler.start()

    def wake_at(self, at: datetime | None) -> None:
        """Run a sweep at ``at`` (a known deadline) unless the periodic one comes first."""
        if at is None or not self.scheduler.running:
            return
        now = datetime.now(UTC)
        if (at - now).total_seconds() >= self.interval:
            return
        self.scheduler.add_job(self._sweep, "date", run_date=max(at, now), id=NEXT_DEADLINE_JOB,
                               replace_existing=True)

    def every(self, job_id: str, seconds: float, fn: Callable[[], None], *,
              start_now: bool = False) -> None:
        """Run ``fn`` every ``seconds`` (the first time at once when ``start_now``)."""
        first = {"next_run_time": datetime.now(UTC)} if start_now else {}
        self.scheduler.add_job(fn, "interval", seconds=seconds, id=job_id, replace_existing=True,
                               **first)

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
