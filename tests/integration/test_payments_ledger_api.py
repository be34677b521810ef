"""The payments ledger over HTTP (CONTRACT §3.10), on SQLite and PostgreSQL: payments with
cursor pagination and filters, a payment with its refunds and disputes, the transaction log
(JSON and CSV) and the daily report, whose figures agree with the log to the cent."""

from __future__ import annotations

import csv
import io
from collections import defaultdict

from tests.integration.api_support import ADMIN, STORE, assert_problem
from tests.integration.ledger_support import (
    caught_up,
    dispute_webhook,
    pay,
    refund,
)


def three_payments(client, clock):
    paid = []
    for i, customer in enumerate(("cus_a", "cus_b", "cus_a")):
        paid.append(pay(client, f"cs_ledger_{i:04d}", customer=customer))
        clock.advance(minutes=1)
    caught_up(client)
    return paid


def test_payments_come_newest_first_a_page_at_a_time_until_no_cursor_is_left(ledger_client, clock):
    paid = three_payments(ledger_client, clock)

    first = ledger_client.get("/payments?limit=2", headers=STORE).json()
    second = ledger_client.get(f"/payments?limit=2&cursor={first['next_cursor']}", headers=STORE).json()

    newest_first = [c["order"]["order_id"] for c in reversed(paid)]
    assert [p["order_id"] for p in first["items"] + second["items"]] == newest_first
    assert first["next_cursor"] and second["next_cursor"] is None


def test_a_payment_has_the_contract_shape(ledger_client, clock):
    (checkout, *_) = three_payments(ledger_client, clock)

    (payment,) = ledger_client.get(f"/payments?order_id={checkout['order']['order_id']}",
                                   headers=STORE).json()["items"]

    assert set(payment) == {"payment_id", "payment_intent_id", "order_id", "checkout_id",
                            "customer_id", "status", "amount", "amount_captured",
                            "amount_refunded", "currency", "card", "created_at", "updated_at"}
    assert payment["payment_intent_id"] == checkout["payment"]["payment_intent_id"]
    assert payment["checkout_id"] == checkout["checkout_id"]
    assert (payment["status"], payment["amount"], payment["amount_captured"], payment["currency"]) == (
        "succeeded", 3998, 3998, "usd")
    assert payment["card"] is None and payment["created_at"].endswith("Z")


def test_payments_filter_by_customer_status_and_creation_time(ledger_client, clock):
    paid = three_payments(ledger_client, clock)
    response = refund(ledger_client, paid[1]["order"]["order_id"], {"amount": 1000})
    assert response.status_code == 201, response.text
    caught_up(ledger_client)

    by_customer = ledger_client.get("/payments?customer_id=cus_a", headers=STORE).json()["items"]
    partially = ledger_client.get("/payments?status=partially_refunded", headers=STORE).json()["items"]
    after = ledger_client.get("/payments?created_after=2026-11-22T10:00:30Z", headers=STORE).json()
    before = ledger_client.get("/payments?created_before=2026-11-22T10:00:30Z", headers=STORE).json()

    assert {p["customer_id"] for p in by_customer} == {"cus_a"} and len(by_customer) == 2
    assert [p["order_id"] for p in partially] == [paid[1]["order"]["order_id"]]
    assert len(after["items"]) == 2 and len(before["items"]) == 1


def test_a_cursor_the_api_never_issued_is_a_422_naming_cursor(ledger_client):
    body = assert_problem(ledger_client.get("/payments?cursor=not-a-cursor", headers=STORE),
                          422, "validation_error")

    assert body["errors"][0]["field"] == "cursor"


def test_an_unknown_payment_status_is_a_422_naming_status(ledger_client):
    body = assert_problem(ledger_client.get("/payments?status=paid", headers=STORE),
                          422, "validation_error")

    assert body["errors"][0]["field"] == "status"


def test_a_payment_shows_its_refunds_and_its_dispute(ledger_client, clock):
    (checkout, *_) = three_payments(ledger_client, clock)
    order_id = checkout["order"]["order_id"]
    assert refund(ledger_client, order_id, {"amount": 1000}).status_code == 201
    dispute_webhook(ledger_client, checkout["payment"]["payment_intent_id"], "dp_1",
                    "charge.dispute.created", 2998, "needs_response", "evt_dp_1")
    caught_up(ledger_client)
    (listed,) = ledger_client.get(f"/payments?order_id={order_id}", headers=STORE).json()["items"]

    payment = ledger_client.get(f"/payments/{listed['payment_id']}", headers=STORE).json()

    assert payment["status"] == "disputed" and payment["amount_refunded"] == 1000
    assert [(r["amount"], r["status"], r["source"]) for r in payment["refunds"]] == [
        (1000, "succeeded", "api")]
    assert [(d["dispute_id"], d["amount"], d["status"]) for d in payment["disputes"]] == [
        ("dp_1", 2998, "needs_response")]


def test_an_unknown_payment_is_404(ledger_client):
    assert_problem(ledger_client.get("/payments/pay_nope", headers=STORE), 404, "not_found")


def test_the_transaction_log_needs_an_admin_key(ledger_client):
    assert_problem(ledger_client.get("/admin/transactions", headers=STORE), 403, "forbidden")


def money_movements(client, clock):
    """Day 1: two payments, a refund; day 2: a payment, a dispute opened and won, another
    dispute opened (and lost) on a day-1 payment."""
    first = pay(client, "cs_money_0001")
    second = pay(client, "cs_money_0002", MUG=3)
    assert refund(client, first["order"]["order_id"], {"amount": 500}).status_code == 201
    clock.advance(days=1)
    third = pay(client, "cs_money_0003", MUG=1)
    dispute_webhook(client, third["payment"]["payment_intent_id"], "dp_won", "charge.dispute.created",
                    1250, "needs_response", "evt_won_1")
    dispute_webhook(client, third["payment"]["payment_intent_id"], "dp_won", "charge.dispute.closed",
                    1250, "won", "evt_won_2")
    dispute_webhook(client, second["payment"]["payment_intent_id"], "dp_lost",
                    "charge.dispute.created", 3750, "needs_response", "evt_lost_1")
    dispute_webhook(client, second["payment"]["payment_intent_id"], "dp_lost",
                    "charge.dispute.closed", 3750, "lost", "evt_lost_2")
    caught_up(client)


def all_transactions(client):
    items, cursor = [], None
    while True:
        page = client.get("/admin/transactions?limit=3" + (f"&cursor={cursor}" if cursor else ""),
                          headers=ADMIN).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def test_the_transaction_log_has_each_movement_with_stripe_fees(ledger_client, clock):
    money_movements(ledger_client, clock)

    rows = all_transactions(ledger_client)

    by_type = defaultdict(list)
    for row in rows:
        by_type[row["type"]].append(row["amount"])
    assert sorted(by_type["charge"]) == [1250, 3750, 3998]
    assert sorted(by_type["fee"]) == sorted((a * 29 + 500) // 1000 + 30 for a in (1250, 3750, 3998))
    assert by_type["refund"] == [500]
    assert sorted(by_type["chargeback"]) == [1250, 3750] and by_type["chargeback_reversal"] == [1250]
    assert {r["currency"] for r in rows} == {"usd"} and all(r["payment_intent_id"] for r in rows)
    assert set(rows[0]) == {"transaction_id", "type", "amount", "currency", "order_id",
                            "payment_intent_id", "stripe_id", "created_at"}


def test_the_transaction_log_filters_by_type(ledger_client, clock):
    money_movements(ledger_client, clock)

    fees = ledger_client.get("/admin/transactions?type=fee", headers=ADMIN).json()["items"]
    bad = ledger_client.get("/admin/transactions?type=payout", headers=ADMIN)

    assert len(fees) == 3 and {r["type"] for r in fees} == {"fee"}
    assert assert_problem(bad, 422, "validation_error")["errors"][0]["field"] == "type"


def test_the_transaction_log_as_csv_is_the_same_rows_after_a_header_line(ledger_client, clock):
    money_movements(ledger_client, clock)
    rows = all_transactions(ledger_client)

    response = ledger_client.get("/admin/transactions", headers={**ADMIN, "Accept": "text/csv"})

    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    lines = list(csv.DictReader(io.StringIO(response.text)))
    assert response.text.splitlines()[0] == (
        "transaction_id,type,amount,currency,order_id,payment_intent_id,stripe_id,created_at")
    assert [{**line, "amount": int(line["amount"])} for line in lines] == rows


def test_every_figure_of_the_daily_report_agrees_with_the_transaction_log(ledger_client, clock):
    money_movements(ledger_client, clock)
    sums = defaultdict(int)
    for row in all_transactions(ledger_client):
        sums[(row["created_at"][:10], row["type"])] += row["amount"]

    report = ledger_client.get("/admin/reports/daily?from=2026-11-21&to=2026-11-24&currency=usd",
                               headers=ADMIN).json()

    assert [d["date"] for d in report["days"]] == ["2026-11-21", "2026-11-22", "2026-11-23", "2026-11-24"]
    for day in report["days"]:
        d = day["date"]
        assert (day["gross"], day["refunds"], day["chargebacks"], day["fees"]) == (
            sums[(d, "charge")], sums[(d, "refund")], sums[(d, "chargeback")], sums[(d, "fee")])
        assert day["net"] == (sums[(d, "charge")] - sums[(d, "refund")] - sums[(d, "chargeback")]
                              + sums[(d, "chargeback_reversal")] - sums[(d, "fee")])
    day1, day2 = report["days"][1], report["days"][2]
    assert (day1["checkouts_started"], day1["checkouts_completed"], day1["orders_paid"]) == (2, 2, 2)
    assert (day2["checkouts_started"], day2["orders_paid"], day2["payment_success_rate"]) == (1, 1, 1.0)
    assert day2["gross"] == 1250 and day2["chargebacks"] == 1250 + 3750
    assert report["days"][0]["payment_success_rate"] is None


def test_a_declined_card_counts_against_the_payment_success_rate(ledger_client):
    declined = pay(ledger_client, "cs_declined_0001", payment_method="pm_card_chargeDeclined")
    response = ledger_client.post(f"/checkouts/{declined['checkout_id']}/confirm",
                                  json={"payment_method": "pm_card_visa"}, headers=STORE)
    assert response.status_code == 200, response.text
    caught_up(ledger_client)

    (day,) = ledger_client.get("/admin/reports/daily?from=2026-11-22&to=2026-11-22",
                               headers=ADMIN).json()["days"]

    assert day["payment_success_rate"] == 0.5 and day["checkouts_completed"] == 1


def test_a_report_needs_valid_dates_in_order(ledger_client):
    missing = ledger_client.get("/admin/reports/daily?to=2026-11-22", headers=ADMIN)
    reversed_ = ledger_client.get("/admin/reports/daily?from=2026-11-22&to=2026-11-21", headers=ADMIN)
    not_a_date = ledger_client.get("/admin/reports/daily?from=22/11/2026&to=2026-11-22", headers=ADMIN)

    assert assert_problem(missing, 422, "validation_error")["errors"][0]["field"] == "from"
    assert assert_problem(reversed_, 422, "validation_error")["errors"][0]["field"] == "to"
    assert assert_problem(not_a_date, 422, "validation_error")["errors"][0]["field"] == "from"
