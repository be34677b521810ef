"""The reference for ``bench.side_by_side``: a minimal async checkout service doing the *same
external work* per checkout as the product, and nothing else, so the product can be measured
against what this machine can do for that work.

Per ``POST /checkouts`` (one process: litestar on uvicorn, a psycopg async pool, the real
``stripe`` SDK's async client):

1. one PostgreSQL commit of 4 event rows (checkout started, stock reserved, order created,
   order attached), the stock row updated under its row lock (``SELECT … FOR UPDATE``);
2. one ``PaymentIntent`` create+confirm (``capture_method=manual``) at the Stripe emulator;
3. one commit of 4 rows (payment authorized, stock committed ×2, order confirmed), the stock
   row again updated under its row lock;
4. one capture;
5. one commit of 3 rows (payment captured, order paid, checkout completed).

Rows carry ``(stream, version)`` primary keys (the checkout stream is its session id, so a
replayed session id is detected by the key, no global lock). Not enough stock: one commit
(started + failed) and ``409`` with ``code: insufficient_stock``.

Per ``POST /webhooks/stripe``: verify ``Stripe-Signature`` and one
``INSERT … ON CONFLICT DO NOTHING``. ``PUT /stock/{sku}`` seeds a SKU.

Run: ``python -m bench.reference_pipeline --port P --database-url URL --stripe-base URL``
(``--webhook-secret``, ``--stripe-key``, ``--pool-size``)."""

from __future__ import annotations

import argparse
import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
import stripe
from litestar import Litestar, Request, Response, get, post, put
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS ref_events (
         stream text NOT NULL, version integer NOT NULL, type text NOT NULL,
         data jsonb NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now(),
         PRIMARY KEY (stream, version))""",
    """CREATE TABLE IF NOT EXISTS ref_stock (
         sku text PRIMARY KEY, unit_amount integer NOT NULL, on_hand integer NOT NULL,
         reserved integer NOT NULL DEFAULT 0, sold integer NOT NULL DEFAULT 0,
         version integer NOT NULL DEFAULT 0)""",
    """CREATE TABLE IF NOT EXISTS ref_webhook_inbox (
         event_id text PRIMARY KEY, type text NOT NULL, payload jsonb NOT NULL,
         received_at timestamptz NOT NULL DEFAULT now())""",
)
INSERT_EVENT = "INSERT INTO ref_events (stream, version, type, data) VALUES (%s, %s, %s, %s)"
COMPLETED_COUNT = "SELECT count(*) FROM ref_events WHERE type = 'CheckoutCompleted'"
"""How ``bench.side_by_side`` counts completed checkouts in the reference's database."""


@dataclass(frozen=True)
class Config:
    database_url: str
    stripe_base: str
    stripe_key: str
    webhook_secret: str
    pool_size: int


def _problem(status: int, code: str, detail: str, **extra: Any) -> Response:
    body = {"type": "about:blank", "title": code, "status": status, "detail": detail,
            "code": code, **extra}
    return Response(body, status_code=status, media_type="application/problem+json")


class Pipeline:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.pool = AsyncConnectionPool(config.database_url, min_size=config.pool_size,
                                        max_size=config.pool_size, open=False,
                                        kwargs={"autocommit": True})
        self.stripe = stripe.StripeClient(
            config.stripe_key, base_addresses={"api": config.stripe_base.rstrip("/")},
            http_client=stripe.HTTPXClient(timeout=10), max_network_retries=2)

    async def start(self) -> None:
        await self.pool.open(wait=True, timeout=10)
        async with self.pool.connection() as conn:
            for statement in SCHEMA:
                await conn.execute(statement)

    async def stop(self) -> None:
        await self.pool.close()

    async def seed(self, sku: str, on_hand: int, unit_amount: int) -> dict[str, Any]:
        async with self.pool.connection() as conn:
            await conn.execute(
                "INSERT INTO ref_stock (sku, unit_amount, on_hand) VALUES (%s, %s, %s) "
                "ON CONFLICT (sku) DO UPDATE SET unit_amount = EXCLUDED.unit_amount, "
                "on_hand = EXCLUDED.on_hand", (sku, unit_amount, on_hand))
        return {"sku": sku, "on_hand": on_hand, "unit_amount": unit_amount}

    async def checkout(self, body: dict[str, Any]) -> Response:
        session = body.get("checkout_session_id")
        items = body.get("items") or []
        if not isinstance(session, str) or not items:
            return _problem(422, "validation_error", "checkout_session_id and items are required")
        lines = sorted((str(i["sku"]), int(i.get("quantity", 1))) for i in items)
        checkout_id, order_id = f"chk_{uuid.uuid4().hex}", f"ord_{uuid.uuid4().hex}"
        stream, order = f"checkout:{session}", f"order:{order_id}"
        async with self.pool.connection() as conn:
            try:
                async with conn.transaction():
                    reserved = await self._reserve(conn, stream, order, checkout_id, body, lines)
            except psycopg.errors.UniqueViolation:
                return await self._replay(conn, stream)
        if isinstance(reserved, Response):
            return reserved
        amount, sku_versions = reserved
        intent = await self.stripe.v1.payment_intents.create_async(
            params={"amount": amount, "currency": body.get("currency", "usd"),
                    "payment_method": body.get("payment_method", "pm_card_visa"),
                    "confirm": True, "capture_method": "manual",
                    "metadata": {"checkout_id": checkout_id}},
            options={"idempotency_key": f"{checkout_id}:create"})
        async with self.pool.connection() as conn, conn.transaction():
            await self._commit_stock(conn, stream, order, lines, intent.id)
        await self.stripe.v1.payment_intents.capture_async(
            intent.id, options={"idempotency_key": f"{checkout_id}:capture"})
        async with self.pool.connection() as conn, conn.transaction():
            cur = conn.cursor()
            await cur.executemany(INSERT_EVENT, [
                (stream, 5, "PaymentCaptured", Jsonb({"payment_intent_id": intent.id})),
                (order, 3, "OrderPaid", Jsonb({"amount": amount})),
                (stream, 6, "CheckoutCompleted", Jsonb({"checkout_id": checkout_id}))])
        return Response({"checkout_id": checkout_id, "checkout_session_id": session,
                         "status": "completed", "amount_total": amount,
                         "order": {"order_id": order_id},
                         "payment": {"payment_intent_id": intent.id, "status": "succeeded"}},
                        status_code=201)

    async def _reserve(self, conn, stream: str, order: str, checkout_id: str,
                       body: dict[str, Any], lines: list[tuple[str, int]]):
        """Commit 1: stock rows locked and reserved, 4 event rows (or started + failed)."""
        cur = conn.cursor()
        await cur.execute("SELECT sku, on_hand - reserved, unit_amount FROM ref_stock "
                          "WHERE sku = ANY(%s) ORDER BY sku FOR UPDATE", ([s for s, _ in lines],))
        stock = {sku: (available, unit) for sku, available, unit in await cur.fetchall()}
        short = [{"sku": sku, "requested": q, "available": stock.get(sku, (0, 0))[0]}
                 for sku, q in lines if stock.get(sku, (0, 0))[0] < q]
        started = (stream, 1, "CheckoutStarted", Jsonb({"checkout_id": checkout_id, **body}))
        if short:
            await cur.executemany(INSERT_EVENT, [
                started, (stream, 2, "CheckoutFailed", Jsonb({"lines": short}))])
            return _problem(409, "insufficient_stock", "not enough stock",
                            checkout_id=checkout_id, lines=short)
        amount = sum(stock[sku][1] * q for sku, q in lines)
        rows, versions = [started], {}
        for sku, quantity in lines:
            await cur.execute("UPDATE ref_stock SET reserved = reserved + %s, version = version + 1"
                              " WHERE sku = %s RETURNING version", (quantity, sku))
            (versions[sku],) = await cur.fetchone()
            rows.append((f"stock:{sku}", versions[sku], "StockReserved",
                         Jsonb({"checkout_id": checkout_id, "quantity": quantity})))
        rows += [(order, 1, "OrderCreated", Jsonb({"checkout_id": checkout_id, "amount": amount})),
                 (stream, 2, "OrderAttached", Jsonb({"order": order}))]
        await cur.executemany(INSERT_EVENT, rows)
        return amount, versions

    async def _commit_stock(self, conn, stream: str, order: str, lines: list[tuple[str, int]],
                            intent_id: str) -> None:
        """Commit 2: payment authorized, stock rows locked and committed, 4 event rows."""
        cur = conn.cursor()
        await cur.execute("SELECT sku FROM ref_stock WHERE sku = ANY(%s) ORDER BY sku FOR UPDATE",
                          ([s for s, _ in lines],))
        rows = [(stream, 3, "PaymentAuthorized", Jsonb({"payment_intent_id": intent_id}))]
        for sku, quantity in lines:
            await cur.execute(
                "UPDATE ref_stock SET reserved = reserved - %s, on_hand = on_hand - %s, "
                "sold = sold + %s, version = version + 1 WHERE sku = %s RETURNING version",
                (quantity, quantity, quantity, sku))
            (version,) = await cur.fetchone()
            rows.append((f"stock:{sku}", version, "StockCommitted", Jsonb({"quantity": quantity})))
        rows += [(stream, 4, "StockCommitted", Jsonb({})),
                 (order, 2, "OrderConfirmed", Jsonb({"payment_intent_id": intent_id}))]
        await cur.executemany(INSERT_EVENT, rows)

    async def _replay(self, conn, stream: str) -> Response:
        cur = await conn.execute("SELECT type FROM ref_events WHERE stream = %s "
                                 "ORDER BY version DESC LIMIT 1", (stream,))
        row = await cur.fetchone()
        status = {"CheckoutCompleted": "completed", "CheckoutFailed": "failed"}.get(
            row[0] if row else "", "processing")
        return Response({"checkout_session_id": stream.removeprefix("checkout:"),
                         "status": status}, status_code=200)

    async def webhook(self, payload: bytes, signature: str | None) -> Response:
        try:
            stripe.WebhookSignature.verify_header(
                payload.decode("utf-8"), signature or "", self.config.webhook_secret, 300)
            event = json.loads(payload)
            event_id, event_type = str(event["id"]), str(event["type"])
        except (stripe.SignatureVerificationError, ValueError, KeyError, TypeError):
            return _problem(400, "invalid_signature", "the webhook signature is not valid")
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "INSERT INTO ref_webhook_inbox (event_id, type, payload) VALUES (%s, %s, %s) "
                "ON CONFLICT DO NOTHING", (event_id, event_type, Jsonb(event)))
        return Response({"received": True, "duplicate": cur.rowcount == 0}, status_code=200)


def create_app(config: Config) -> Litestar:
    pipeline = Pipeline(config)

    @post("/checkouts")
    async def checkouts(data: dict[str, Any]) -> Response:
        return await pipeline.checkout(data)

    @post("/webhooks/stripe", status_code=200)
    async def webhooks(request: Request) -> Response:
        return await pipeline.webhook(await request.body(), request.headers.get("stripe-signature"))

    @put("/stock/{sku:str}")
    async def stock(sku: str, data: dict[str, Any]) -> dict[str, Any]:
        return await pipeline.seed(sku, int(data["on_hand"]), int(data.get("unit_amount", 1000)))

    @get("/readyz")
    async def ready() -> dict[str, str]:
        return {"status": "ok"}

    return Litestar([checkouts, webhooks, stock, ready], on_startup=[pipeline.start],
                    on_shutdown=[pipeline.stop], debug=False, logging_config=None)


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m bench.reference_pipeline")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--stripe-base", required=True)
    parser.add_argument("--stripe-key", default="sk_test_reference")
    parser.add_argument("--webhook-secret", default="whsec_reference_0123456789")
    parser.add_argument("--pool-size", type=int, default=16)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)  # no per-request lines from the SDK or httpx
    config = Config(args.database_url, args.stripe_base, args.stripe_key, args.webhook_secret,
                    args.pool_size)
    uvicorn.run(create_app(config), host=args.host, port=args.port, log_level="warning",
                access_log=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
