"""An idle worker follows the log from its position and probes; it does not count the whole
due-work table on every pass (issue 10 #6)."""

from __future__ import annotations

import pytest

from adapters.database import parse_database_url
from adapters.read_database import ReadDatabase
from application.due_work import DueWork
from application.worker import Worker
from checkout_saga.commands import CartLine, StartCheckout
from migrations import migrate


class CountingDueWork(DueWork):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.counted = 0
        self.notifications_read = 0

    def pending(self):
        self.counted += 1
        return super().pending()

    def index(self) -> int:
        read = super().index()
        self.notifications_read += read
        return read


@pytest.fixture
def due_work(database_url, store):
    db = ReadDatabase(parse_database_url(database_url))
    migrate(db)
    yield CountingDueWork(db, store)
    db.close()


def test_idle_passes_read_no_old_notifications_and_count_nothing(shop, due_work):
    shop.checkouts.start_checkout(StartCheckout(
        checkout_session_id="cs_idle_0001", currency="usd",
        items=(CartLine(sku="TSHIRT-M", quantity=1),), payment_method="pm_card_visa"))
    worker = Worker(shop.checkouts, due_work, owner="idle-worker")
    worker.run_once()
    read, counted = due_work.notifications_read, due_work.counted
    assert read > 0 and counted == 1

    for _ in range(3):
        worker.run_once()

    assert due_work.notifications_read == read  # followed from its position: nothing re-read
    assert due_work.counted == counted  # the gauges' GROUP BY waits for news (or 15 s)


def test_a_pass_after_news_counts_again(shop, due_work):
    worker = Worker(shop.checkouts, due_work, owner="idle-worker")
    worker.run_once()
    counted = due_work.counted

    shop.checkouts.start_checkout(StartCheckout(
        checkout_session_id="cs_idle_0002", currency="usd",
        items=(CartLine(sku="TSHIRT-M", quantity=1),), payment_method="pm_card_visa"))
    worker.run_once()

    assert due_work.counted == counted + 1
