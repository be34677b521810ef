"""Events of document number sequences: one stream per seller, kind of document and UTC
year (``invoice-seq:{seller}:{year}``). A number is allocated in the same atomic append as
the document that carries it, under optimistic concurrency: two documents can never take
the same number, and a number is never taken without its document (no gap)."""

from __future__ import annotations

from events.base import DomainEvent


class NumberAllocated(DomainEvent, frozen=True, kw_only=True):
    series: str  # e.g. "invoice-seq:acct_1:2026"
    number: int  # 1, 2, 3 … consecutive within the series
    document_number: str  # e.g. "INV-2026-000001"
    order_id: str
