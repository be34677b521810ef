"""Read models folded from the event store: orders, inventory levels, the payments ledger
and the ops view of checkouts, each with its tracking position."""
