"""The orders projection carries the v2 fields (amounts, addresses, invoice number,
fulfilment) and filters by them; a database made before v2 is migrated in place and still
agrees with the replay of its events (invariant 7)."""

from __future__ import annotations

from adapters.database import parse_database_url
from adapters.read_database import ReadDatabase
from checkout_saga.commands import CartLine, StartCheckout
from events.documents import Address
from migrations import schema
from projections.consistency import read_models_equal_replay
from projections.runtime import ReadModels

HOME = Address(name="Ada", line1="1 Road", city="London", postal_code="N1", country="GB")


def pay(service, session, payment_method="pm_card_visa"):
    return service.checkouts.start_checkout(StartCheckout(
        checkout_session_id=session, currency=None, items=(CartLine(sku="MUG", quantity=1),),
        customer_id="cus_42", payment_method=payment_method, shipping_address=HOME)).checkout


def test_an_order_row_has_the_v2_fields_and_filters_by_fulfilment(shop, read_models, store):
    shipped = pay(shop, "cs_proj_v2_0001")
    pay(shop, "cs_proj_v2_0002")
    shop.order_admin.move_fulfillment(shipped.order_id, status="shipped", tracking_number="T1",
                                      carrier="UPS")
    read_models.catch_up()

    (row,), _ = read_models.list_orders(fulfillment_status="shipped")
    assert row["order_id"] == shipped.order_id
    assert row["invoice_number"] == "INV-2026-000001"
    assert (row["amount_subtotal"], row["amount_tax"], row["amount_shipping"]) == (1250, 0, 0)
    assert row["shipping_address"]["country"] == "GB" and row["billing_address"] is None
    assert row["fulfillment"]["carrier"] == "UPS" and row["fulfillment"]["shipped_at"].endswith("Z")
    assert len(read_models.list_orders(fulfillment_status="unfulfilled")[0]) == 1
    assert len(read_models.list_orders(seller_id="acct_1")[0]) == 2
    assert read_models_equal_replay(store, read_models.db) == []


def test_a_read_database_made_before_v2_is_migrated_in_place(shop, store, database_url):
    pay(shop, "cs_proj_v1_0001")
    db = ReadDatabase(parse_database_url(database_url), pool_size=1)
    with db.write() as tx:  # the read side as the release before v2 left it
        tx.execute(schema.TRACKING)
        for name in schema.TABLE_NAMES:
            for statement in schema.create_all_v1(name):
                tx.execute(statement)
        tx.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                   "name TEXT NOT NULL, applied_at TEXT NOT NULL)")
        tx.execute("INSERT INTO schema_migrations VALUES (1, 'read_models', 'then')")
    db.close()

    models = ReadModels(parse_database_url(database_url), event_store=store)
    try:
        applied = models.migrate()
        models.catch_up()
        (row,), _ = models.list_orders()

        assert 1101 in applied
        assert row["fulfillment"]["status"] == "unfulfilled" and row["invoice_number"]
        assert read_models_equal_replay(store, models.db) == []
    finally:
        models.close()
