"""DDL of the read-model tables. A table may be built under another name (``orders__shadow``)
for a shadow rebuild, so every statement is made from the table name it targets."""

from __future__ import annotations

TRACKING = """CREATE TABLE IF NOT EXISTS projection_tracking (
    name TEXT PRIMARY KEY, position BIGINT NOT NULL DEFAULT 0, updated_at TEXT NOT NULL)"""

_ORDERS_V1 = """
        order_id TEXT PRIMARY KEY, order_number TEXT NOT NULL, checkout_id TEXT NOT NULL,
        customer_id TEXT, status TEXT NOT NULL, currency TEXT NOT NULL,
        amount_total BIGINT NOT NULL, amount_captured BIGINT NOT NULL DEFAULT 0,
        amount_refunded BIGINT NOT NULL DEFAULT 0, refunds TEXT NOT NULL DEFAULT '{}',
        items TEXT NOT NULL, created_at TEXT NOT NULL, paid_at TEXT, updated_at TEXT NOT NULL"""

# issue 11: the v2 order surface. Added by migration 1101 to tables made by migration 1; a
# table made afresh (a shadow rebuild) has them from the start. Rows of orders placed before
# v2 keep the defaults, which are exactly what their events replay to.
ORDERS_V2_COLUMNS = (
    "amount_subtotal BIGINT", "amount_tax BIGINT NOT NULL DEFAULT 0",
    "amount_shipping BIGINT NOT NULL DEFAULT 0", "shipping_address TEXT", "billing_address TEXT",
    "seller_id TEXT", "invoice_number TEXT",
    "fulfillment_status TEXT NOT NULL DEFAULT 'unfulfilled'", "fulfillment TEXT",
)

_TABLES: dict[str, str] = {
    "orders": f"({_ORDERS_V1},\n        {', '.join(ORDERS_V2_COLUMNS)})",
    "inventory_levels": """(
        sku TEXT PRIMARY KEY, on_hand BIGINT NOT NULL, reserved BIGINT NOT NULL,
        available BIGINT NOT NULL, sold BIGINT NOT NULL, updated_at TEXT NOT NULL)""",
    "payments_ledger": """(
        entry_id TEXT PRIMARY KEY, kind TEXT NOT NULL, status TEXT, checkout_id TEXT, order_id TEXT,
        payment_intent_id TEXT, charge_id TEXT, refund_id TEXT, provider_refund_id TEXT,
        dispute_id TEXT, amount BIGINT NOT NULL DEFAULT 0, occurred_at TEXT NOT NULL)""",
    "ops_checkouts": """(
        checkout_id TEXT PRIMARY KEY, status TEXT NOT NULL, compensating INTEGER NOT NULL DEFAULT 0,
        last_error TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)""",
    # --- issue 12: the payments ledger --------------------------------------------------
    "payments": """(
        payment_id TEXT PRIMARY KEY, order_id TEXT NOT NULL, checkout_id TEXT, customer_id TEXT,
        payment_intent_id TEXT, status TEXT NOT NULL, intent_status TEXT NOT NULL,
        amount BIGINT NOT NULL, amount_captured BIGINT NOT NULL DEFAULT 0,
        amount_refunded BIGINT NOT NULL DEFAULT 0, currency TEXT NOT NULL, card TEXT,
        charge_id TEXT, fee BIGINT, refunds TEXT NOT NULL DEFAULT '{}',
        disputes TEXT NOT NULL DEFAULT '{}', declines BIGINT NOT NULL DEFAULT 0,
        authorized BIGINT NOT NULL DEFAULT 0, started_at TEXT NOT NULL, created_at TEXT,
        captured_at TEXT, paid_at TEXT, completed_at TEXT, updated_at TEXT NOT NULL)""",
    "transactions": """(
        transaction_id TEXT PRIMARY KEY, type TEXT NOT NULL, amount BIGINT, currency TEXT,
        order_id TEXT NOT NULL, payment_id TEXT NOT NULL, payment_intent_id TEXT,
        stripe_id TEXT, created_at TEXT NOT NULL)""",
    "refund_index": """(
        refund_id TEXT PRIMARY KEY, order_id TEXT NOT NULL, created_at TEXT NOT NULL)""",
}

_INDEXES: dict[str, list[tuple[str, str]]] = {
    "orders": [("customer", "customer_id, created_at DESC, order_id DESC"),
               ("status", "status, created_at DESC, order_id DESC"),
               ("created", "created_at DESC, order_id DESC"),
               ("fulfillment", "fulfillment_status, created_at DESC, order_id DESC")],
    "inventory_levels": [],
    "payments_ledger": [("checkout", "checkout_id"), ("order", "order_id"),
                        ("intent", "payment_intent_id")],
    "ops_checkouts": [("status", "status, updated_at")],
    "payments": [("created", "created_at DESC, payment_id DESC"),
                 ("customer", "customer_id, created_at DESC, payment_id DESC"),
                 ("status", "status, created_at DESC, payment_id DESC"),
                 ("order", "order_id"), ("intent", "payment_intent_id"),
                 ("started", "started_at"), ("completed", "completed_at"), ("paid", "paid_at")],
    "transactions": [("created", "created_at DESC, transaction_id DESC"),
                     ("type", "type, created_at DESC, transaction_id DESC"),
                     ("stripe", "stripe_id"), ("payment", "payment_id")],
    "refund_index": [],
}

TABLE_NAMES = tuple(_TABLES)


def create_table(base: str, table: str | None = None) -> str:
    return f"CREATE TABLE IF NOT EXISTS {table or base} {_TABLES[base]}"


def index_names(base: str, table: str | None = None) -> list[str]:
    return [f"{table or base}_{suffix}_idx" for suffix, _ in _INDEXES[base]]


def create_indexes(base: str, table: str | None = None) -> list[str]:
    target = table or base
    return [f"CREATE INDEX IF NOT EXISTS {target}_{suffix}_idx ON {target} ({cols})"
            for suffix, cols in _INDEXES[base]]


def create_all(base: str, table: str | None = None) -> list[str]:
    return [create_table(base, table), *create_indexes(base, table)]


def create_all_v1(base: str) -> list[str]:
    """Migration 1 as it was first shipped (later migrations alter what it made)."""
    if base != "orders":
        return create_all(base)
    v1_indexes = [(s, c) for s, c in _INDEXES["orders"] if s != "fulfillment"]
    return [f"CREATE TABLE IF NOT EXISTS orders ({_ORDERS_V1})",
            *[f"CREATE INDEX IF NOT EXISTS orders_{s}_idx ON orders ({c})" for s, c in v1_indexes]]


ORDERS_V2 = [f"ALTER TABLE orders ADD COLUMN {column}" for column in ORDERS_V2_COLUMNS] + [
    "CREATE INDEX IF NOT EXISTS orders_fulfillment_idx "
    "ON orders (fulfillment_status, created_at DESC, order_id DESC)"]


# --- issue 6: timers (due work) and reconciliation reports --------------------------------

DUE_WORK = [
    """CREATE TABLE IF NOT EXISTS due_work (
        checkout_id TEXT PRIMARY KEY, due_at TEXT, reason TEXT, version BIGINT NOT NULL,
        claimed_by TEXT, claimed_until TEXT, updated_at TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS due_work_due_idx ON due_work (due_at)",
]

RECONCILIATION_REPORTS = [
    """CREATE TABLE IF NOT EXISTS reconciliation_reports (
        report_id TEXT PRIMARY KEY, created_at TEXT NOT NULL, report TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS reconciliation_reports_created_idx "
    "ON reconciliation_reports (created_at)",
]


# --- issue 13: the notifications outbox and outbound webhook endpoints --------------------

OUTBOX = [
    """CREATE TABLE IF NOT EXISTS outbox (
        id TEXT PRIMARY KEY, kind TEXT NOT NULL, template TEXT, event_type TEXT,
        recipient TEXT NOT NULL, cause TEXT NOT NULL, payload TEXT NOT NULL,
        status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT,
        next_attempt_at TEXT, claimed_by TEXT, claimed_until TEXT,
        created_at TEXT NOT NULL, sent_at TEXT, updated_at TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS outbox_due_idx ON outbox (status, next_attempt_at)",
    "CREATE INDEX IF NOT EXISTS outbox_recipient_idx ON outbox (kind, recipient, created_at)",
    "CREATE INDEX IF NOT EXISTS outbox_created_idx ON outbox (created_at)",
]

WEBHOOK_ENDPOINTS = [
    """CREATE TABLE IF NOT EXISTS webhook_endpoints (
        name TEXT PRIMARY KEY, url TEXT NOT NULL, secret TEXT NOT NULL, events TEXT NOT NULL,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL)""",
]
