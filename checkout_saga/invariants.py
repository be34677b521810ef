"""CONTRACT §5's invariants, checked over the recorded events (and, when given, what the
payment provider holds). Pure: used by ``audit verify``, the tests and the property tests."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from uuid import UUID

import msgspec

from checkout_saga.checkout import COMPENSATED_TERMINAL, CheckoutState, fold_checkout
from checkout_saga.inventory import InventoryState, fold_inventory
from checkout_saga.invoicing import parse_document_number
from checkout_saga.order import OrderState, fold_order
from checkout_saga.ports import PaymentIntentSnapshot
from events import checkout as ev
from events import inventory as inv_ev
from events import order as ord_ev
from events.base import DomainEvent

LIVE_INTENT = frozenset({"requires_payment_method", "requires_confirmation", "requires_action",
                         "requires_capture", "processing"})


class Violation(msgspec.Struct, frozen=True):
    invariant: int
    message: str
    ids: tuple[str, ...]


def streams_by_kind(events: Iterable[DomainEvent]) -> dict[str, dict[UUID, list[DomainEvent]]]:
    kinds: dict[str, dict[UUID, list[DomainEvent]]] = defaultdict(lambda: defaultdict(list))
    for e in events:
        module = type(e).__module__.rsplit(".", 1)[-1]
        kinds[module][e.originator_id].append(e)
    return kinds


def check_invariants(
    events: Iterable[DomainEvent],
    provider_intents: Mapping[str, list[PaymentIntentSnapshot]] | None = None,
) -> list[Violation]:
    kinds = streams_by_kind(events)
    checkouts = {sid: fold_checkout(None, evs) for sid, evs in kinds["checkout"].items()}
    orders = {sid: fold_order(None, evs) for sid, evs in kinds["order"].items()}
    violations = _stock(kinds["inventory"])
    inventory = {sid: fold_inventory(None, evs) for sid, evs in kinds["inventory"].items()}
    violations += _payments_and_orders(checkouts, orders, kinds["checkout"])
    violations += _ended_checkouts(checkouts, inventory, provider_intents or {})
    violations += _refunds(orders)
    violations += _one_per_session(checkouts, kinds["checkout"], provider_intents or {})
    violations += check_documents(orders, kinds["order"])
    return violations


def check_documents(orders: Mapping[UUID, OrderState],
                    streams: Mapping[UUID, list[DomainEvent]]) -> list[Violation]:
    """Invariant 8: every paid order has exactly one invoice (and an unpaid one none); per
    seller and year, invoice and credit-note numbers run 1, 2, 3 … with no gap and no
    duplicate."""
    out: list[Violation] = []
    numbers: dict[tuple[str, str, int], list[tuple[int, str]]] = defaultdict(list)
    for sid, evs in streams.items():
        order = orders[sid]
        invoices = [e for e in evs if isinstance(e, ord_ev.InvoiceIssued)]
        if order.was_paid and len(invoices) != 1:
            out.append(Violation(8, f"paid order has {len(invoices)} invoices", (order.order_id,)))
        elif not order.was_paid and invoices:
            out.append(Violation(8, f"{order.status} order has an invoice", (order.order_id,)))
        notes = [e for e in evs if isinstance(e, ord_ev.CreditNoteIssued)]
        refunds = [e.refund_id for e in notes]
        if len(set(refunds)) != len(refunds):
            out.append(Violation(8, "one refund has several credit notes", (order.order_id,)))
        seller = invoices[0].seller.seller_id if invoices else "-"
        for e in invoices:
            _collect_number(numbers, e.seller.seller_id, e.invoice_number, order.order_id, out)
        for e in notes:
            _collect_number(numbers, seller, e.credit_note_number, order.order_id, out)
    for (seller, kind, year), taken in sorted(numbers.items()):
        got = sorted(n for n, _ in taken)
        if got != list(range(1, len(got) + 1)):
            expected = set(range(1, max(got) + 1))
            gaps = sorted(expected - set(got))[:5]
            dups = sorted({n for n in got if got.count(n) > 1})[:5]
            out.append(Violation(8, f"{kind} numbers of {seller} in {year} are not 1..{len(got)}: "
                                    f"gaps {gaps}, duplicates {dups}",
                                 tuple(sorted({o for _, o in taken}))[:10]))
    return out


def _collect_number(numbers, seller: str, text: str, order_id: str, out: list[Violation]) -> None:
    parsed = parse_document_number(text)
    if parsed is None:
        out.append(Violation(8, f"malformed document number {text!r}", (order_id,)))
        return
    kind, year, number = parsed
    numbers[(seller, kind, year)].append((number, order_id))


def _stock(streams: Mapping[UUID, list[DomainEvent]]) -> list[Violation]:
    out: list[Violation] = []
    for evs in streams.values():
        state: InventoryState | None = None
        ever_on_hand = 0
        for e in evs:
            state = fold_inventory(state, [e])
            if isinstance(e, inv_ev.StockAdjusted) and e.delta > 0:
                ever_on_hand += e.delta
            sku = state.sku
            if state.on_hand - state.reserved < 0 or state.reserved < 0:
                out.append(Violation(1, f"{sku}: available {state.available} < 0 at version "
                                        f"{state.version}", (sku,)))
            if state.on_hand + state.sold != state.adjusted_total:
                out.append(Violation(1, f"{sku}: on_hand + sold = {state.on_hand + state.sold} "
                                        f"!= adjustments {state.adjusted_total}", (sku,)))
            if state.sold > ever_on_hand or state.sold < 0:
                out.append(Violation(2, f"{sku}: sold {state.sold} exceeds all stock ever on hand "
                                        f"({ever_on_hand})", (sku,)))
    return out


def _payments_and_orders(checkouts: Mapping[UUID, CheckoutState], orders: Mapping[UUID, OrderState],
                         streams: Mapping[UUID, list[DomainEvent]]) -> list[Violation]:
    out: list[Violation] = []
    by_order = {o.order_id: o for o in orders.values()}
    paid_intents: dict[str, list[str]] = defaultdict(list)
    for sid, s in checkouts.items():
        captures = {e.payment_intent_id for e in streams[sid] if isinstance(e, ev.PaymentCaptured)}
        if not captures:
            continue
        if len(captures) > 1:
            out.append(Violation(3, "checkout captured more than one payment",
                                 (s.checkout_id, *sorted(captures))))
        order = by_order.get(s.order_id or "")
        if order is None or order.status not in ("paid", "partially_refunded", "refunded"):
            out.append(Violation(3, "captured payment without a paid order",
                                 (s.checkout_id, s.order_id or "-", *sorted(captures))))
        for pi in captures:
            paid_intents[pi].append(s.checkout_id)
    for pi, owners in paid_intents.items():
        if len(owners) > 1:
            out.append(Violation(3, "one captured payment belongs to several checkouts", (pi, *owners)))
    captured_by_checkout = {s.checkout_id: s for s in checkouts.values() if s.payment_status == "succeeded"}
    for o in orders.values():
        if o.status in ("paid", "partially_refunded", "refunded") and o.checkout_id not in captured_by_checkout:
            out.append(Violation(3, "paid order without a captured payment", (o.order_id, o.checkout_id)))
    return out


def _ended_checkouts(checkouts, inventory, provider_intents) -> list[Violation]:
    out: list[Violation] = []
    holding: dict[str, list[str]] = defaultdict(list)
    for item in inventory.values():
        for checkout_id in list(item.reservations) + list(item.committed):
            holding[checkout_id].append(item.sku)
    for s in checkouts.values():
        if s.status not in COMPENSATED_TERMINAL:
            continue
        if holding.get(s.checkout_id):
            out.append(Violation(4, f"{s.status} checkout still holds stock",
                                 (s.checkout_id, *holding[s.checkout_id])))
        if s.payment_intent_id and s.payment_status in LIVE_INTENT:
            out.append(Violation(4, f"{s.status} checkout has a live payment intent",
                                 (s.checkout_id, s.payment_intent_id)))
        for intent in provider_intents.get(s.checkout_id, []):
            if intent.status in LIVE_INTENT:
                out.append(Violation(4, f"{s.status} checkout has a live intent at the provider",
                                     (s.checkout_id, intent.id)))
    return out


def _refunds(orders: Mapping[UUID, OrderState]) -> list[Violation]:
    return [
        Violation(5, f"refunded {o.amount_refunded} > captured {o.amount_captured}", (o.order_id,))
        for o in orders.values()
        if o.amount_refunded > o.amount_captured
    ]


def _one_per_session(checkouts, streams, provider_intents) -> list[Violation]:
    out: list[Violation] = []
    sessions: dict[str, list[str]] = defaultdict(list)
    for sid, s in checkouts.items():
        sessions[s.checkout_session_id].append(s.checkout_id)
        intents = {e.payment_intent_id for e in streams[sid] if isinstance(e, ev.PaymentIntentCreated)}
        if len(intents) > 1:
            out.append(Violation(6, "checkout has several payment intents", (s.checkout_id, *sorted(intents))))
        at_provider = provider_intents.get(s.checkout_id, [])
        if len(at_provider) > 1:
            out.append(Violation(6, "provider holds several intents for one checkout",
                                 (s.checkout_id, *sorted(i.id for i in at_provider))))
    for session, ids in sessions.items():
        if len(ids) > 1:
            out.append(Violation(6, "one session made several checkouts", (session, *ids)))
    return out
