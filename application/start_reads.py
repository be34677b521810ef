"""What a new checkout is decided on, read in one round trip.

``POST /checkouts`` decides on four kinds of state: the checkout's own stream (is this session
id a replay?), the inventory of each SKU, each product (active? its price, its seller) and each
seller (``charges_enabled``). Read one by one, that was four database transactions before the
first append; here it is one statement (``EventStore.get_many``; on PostgreSQL
``adapters.postgres_multi_read``), two when a product's seller is not the one this process last
saw (the seller's id comes from the product, so it is guessed from the cached product and read
again if the guess was wrong).

The freshness rule (which reads may come from this process's cache without asking the
database, and which must not):

- Every state here is *fresh*: the statement starts after the request arrived, so it sees every
  write acknowledged before that, in any process. That is required for the reads the
  decision's own append cannot check:
  * the seller's ``charges_enabled`` and the product's ``active`` flag (seed 001 #8: a disable
    acknowledged before a checkout starts is honoured; tests/integration/
    test_seller_disable_across_processes.py) — a start appends nothing to the seller's or the
    product's stream, so a stale read would go unnoticed and a checkout would be taken for a
    disabled seller;
  * the inventory when the decision is a refusal (``insufficient_stock`` appends to the
    checkout's stream only): a stale level would refuse a buyer while stock remains;
  * the checkout's stream when its state decides a replay (an existing checkout appends
    nothing: the answer would be made of a stale state).
- A state the decision appends to (the checkout when it is new, the inventory it reserves, the
  order it places) *could* be taken from the cache without a read: a stale one only makes the
  append conflict (``(originator_id, originator_version)`` is unique), and the command runner
  then reads again and decides again. It is not done here because it buys nothing once the
  fresh reads share one statement, and with several API processes each process's cache of a
  busy SKU is stale after every sale in another process, so the first append would conflict
  nearly always (a wasted append, a re-read and a queue per checkout).
- After a successful append, the drive loop carries the states forward
  (``SagaContext.advanced``) instead of reading them back: what it appended is exactly what is
  stored, or the append would have conflicted.

Failure modes: a product whose seller changed since this process last read it costs a second
read (correct, one more round trip); a store without ``get_many`` support (SQLite, in-memory)
reads stream by stream (correct, as before); a read that fails raises before anything is
decided or appended."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from checkout_saga import ports
from checkout_saga.catalog import ProductState, SellerState, fold_product, fold_seller
from checkout_saga.checkout import CheckoutState, fold_checkout
from checkout_saga.ids import inventory_stream, product_stream, seller_stream
from checkout_saga.inventory import InventoryState, fold_inventory


@dataclass(frozen=True)
class StartReads:
    checkout: CheckoutState | None
    inventory: dict[str, InventoryState | None]
    products: dict[str, ProductState | None]
    sellers: dict[str, SellerState | None]


def read_for_start(store: ports.EventStore, checkout_sid: UUID, skus: Sequence[str]) -> StartReads:
    """The checkout, and for each SKU its inventory, product and the product's seller, fresh."""
    skus = list(dict.fromkeys(skus))
    guessed = sorted({p.seller_id for sku in skus
                      if (p := store.cached(product_stream(sku), fold_product)) is not None})
    states = store.get_many(
        [(checkout_sid, fold_checkout)]
        + [(inventory_stream(sku), fold_inventory) for sku in skus]
        + [(product_stream(sku), fold_product) for sku in skus]
        + [(seller_stream(seller_id), fold_seller) for seller_id in guessed])
    n = len(skus)
    inventory = dict(zip(skus, states[1:1 + n], strict=True))
    products = dict(zip(skus, states[1 + n:1 + 2 * n], strict=True))
    sellers = dict(zip(guessed, states[1 + 2 * n:], strict=True))
    needed = sorted({p.seller_id for p in products.values() if p is not None})
    missing = [seller_id for seller_id in needed if seller_id not in sellers]
    if missing:  # the cached product named another seller (or none was cached): read them now
        sellers.update(zip(missing, store.get_many(
            [(seller_stream(seller_id), fold_seller) for seller_id in missing]), strict=True))
    return StartReads(states[0], inventory, products, {s: sellers[s] for s in needed})
