"""``checkout-saga projections status | rebuild [NAME ...] [--shadow]``."""

from __future__ import annotations

import sys

import structlog
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from projections.rebuild import ShadowCheckFailedError, rebuild_in_place, rebuild_shadow
from projections.registry import PROJECTIONS
from projections.runtime import ReadModels

log = structlog.get_logger(__name__)


def run(args, system) -> int:
    models = system.read_models
    try:
        if args.projections_command == "status":
            return _status(models)
        if args.projections_command == "rebuild":
            return _rebuild(models, list(getattr(args, "names", None) or []),
                            bool(getattr(args, "shadow", False)))
        sys.stderr.write(f"unknown projections command: {args.projections_command}\n")
        return 2
    finally:
        system.close()


def _status(models: ReadModels) -> int:
    table = Table("projection", "position", "head", "lag (events)", "lag (s)")
    for s in models.status():
        table.add_row(s["name"], str(s["position"]), str(s["head"]), str(s["lag_events"]),
                      f"{s['lag_seconds']:.1f}")
    Console().print(table)
    return 0


class _Rate(TextColumn):
    def __init__(self) -> None:
        super().__init__("")

    def render(self, task):  # events per second
        from rich.text import Text

        return Text(f"{task.speed or 0:,.0f} events/s")


def _rebuild(models: ReadModels, names: list[str], shadow: bool) -> int:
    unknown = [n for n in names if n not in PROJECTIONS]
    if unknown:
        sys.stderr.write(f"unknown projection(s): {', '.join(unknown)}; "
                         f"known: {', '.join(PROJECTIONS)}\n")
        return 2
    names = names or list(PROJECTIONS)
    head = models.event_store.max_notification_id()
    build = rebuild_shadow if shadow else rebuild_in_place
    columns = (TextColumn("rebuilding {task.description}"), BarColumn(), MofNCompleteColumn(),
               TaskProgressColumn(), _Rate(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task(", ".join(names), total=head)
        try:
            applied = build(models.db, models.event_store, names,
                            progress=lambda n: bar.advance(task, n))
        except ShadowCheckFailedError as exc:
            for problem in exc.problems:
                sys.stderr.write(f"shadow check failed: {problem}\n")
            sys.stderr.write("the served tables were left as they were\n")
            return 1
    log.info("projections_rebuilt", names=names, events=applied, shadow=shadow)
    sys.stdout.write(f"rebuilt {', '.join(names)} from {applied} events"
                     f"{' (shadow swapped in)' if shadow else ''}\n")
    return 0
