"""Follow-ups run after a command's append and can never fail or undo it (an invoice that
cannot be issued now is resumed later; the payment that owes it stays recorded)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from adapters.clock import FakeClock
from application.command_runner import CommandRunner
from checkout_saga.decision import Decision
from events.inventory import StockAdjusted

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


class ListStore:
    def __init__(self) -> None:
        self.events: list = []

    def append(self, events) -> None:
        self.events.extend(events)


def _decision() -> Decision:
    return Decision(events=[StockAdjusted(originator_id=uuid.uuid4(), originator_version=1,
                                          occurred_at=NOW, sku="A", delta=1, reason="in")])


def test_a_follower_hears_of_every_recorded_append():
    store, heard = ListStore(), []
    runner = CommandRunner(store, FakeClock())
    runner.followers.append(heard.append)

    runner.decide_and_append("adjust", lambda: None, lambda _: _decision())

    assert heard == [store.events]


def test_a_failing_follower_does_not_fail_the_command():
    store = ListStore()
    runner = CommandRunner(store, FakeClock())

    def broken(_events) -> None:
        raise ConnectionError("the database went away")

    runner.followers.append(broken)
    decision, _ = runner.decide_and_append("adjust", lambda: None, lambda _: _decision())

    assert store.events == decision.events


def test_nothing_recorded_nothing_followed():
    heard: list = []
    runner = CommandRunner(ListStore(), FakeClock())
    runner.followers.append(heard.append)

    runner.decide_and_append("noop", lambda: None, lambda _: Decision())

    assert heard == []
