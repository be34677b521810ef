"""A runner remembers the positions it wrote instead of reading them before each batch
(projections/runner.py); a position moved by anyone else is still noticed, and nothing is
skipped or applied twice."""

from __future__ import annotations

from adapters.database import parse_database_url
from checkout_saga.commands import CartLine, StartCheckout
from projections.runner import Target, run_batch
from projections.runtime import ReadModels


def start(service, session):
    return service.checkouts.start_checkout(StartCheckout(
        checkout_session_id=session, currency="usd", items=(CartLine(sku="TSHIRT-M", quantity=1),),
        customer_id="cus_42", payment_method="pm_card_visa")).checkout


def test_a_runner_whose_remembered_positions_went_stale_applies_nothing_twice(
        shop, database_url, read_models):
    start(shop, "cs_pos_0001")
    read_models.catch_up()  # this runner now remembers its positions
    other = ReadModels(parse_database_url(database_url), event_store=shop.store)
    try:
        start(shop, "cs_pos_0002")
        assert other.catch_up() > 0  # another runner (a standby, a restarted worker) moved them

        assert read_models.catch_up() == 0  # the stale batch is abandoned, the positions re-read

        assert read_models.inventory_level("TSHIRT-M")["sold"] == 2
        assert len(read_models.list_orders()[0]) == 2
        start(shop, "cs_pos_0003")
        assert read_models.catch_up() > 0
        assert read_models.inventory_level("TSHIRT-M")["sold"] == 3
    finally:
        other.close()


def test_a_batch_on_stale_positions_says_so_and_forgets_them(shop, database_url, read_models):
    start(shop, "cs_pos_0004")
    targets = [Target.served(t.projection) for t in read_models.targets]
    stale = dict.fromkeys((t.tracking for t in targets), 0)

    assert run_batch(read_models.db, shop.store, targets, positions=stale) > 0  # 0: as migrated
    assert stale  # remembered

    stale.update(dict.fromkeys(stale, 0))
    assert run_batch(read_models.db, shop.store, targets, positions=stale) == -1
    assert stale == {}
    assert run_batch(read_models.db, shop.store, targets, positions=stale) == 0
