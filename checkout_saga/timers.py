"""When a checkout next needs the worker: its deadlines as data, read from its state.

Pure: the saga's own ``next_due_at`` (reservation expiry, step and compensation retry
times), plus crash recovery — an intention recorded without an outcome (no retry time) is
due ``recovery_grace`` after it was recorded, so a live process gets to finish its call
first and a dead one's intention is re-run with the same key."""

from __future__ import annotations

from datetime import datetime, timedelta

from checkout_saga.checkout import CheckoutState
from checkout_saga.order import OrderState
from checkout_saga.saga import next_due_at
from checkout_saga.stripe_events import InboxEntry

RECOVERY_GRACE = timedelta(seconds=5)


class Due:
    __slots__ = ("at", "reason")

    def __init__(self, at: datetime, reason: str) -> None:
        self.at = at
        self.reason = reason

    def __repr__(self) -> str:
        return f"Due({self.at.isoformat()}, {self.reason})"


def _unfinished_intention(s: CheckoutState) -> bool:
    comp = s.compensation
    if comp is not None:
        return comp.retry_at is None and bool(comp.remaining) and comp.remaining[0] == "cancel_intent"
    return s.pending is not None and s.pending.retry_at is None


def _expiry_waits_on_a_step(s: CheckoutState, at: datetime) -> bool:
    return (s.status == "processing" and s.compensation is None and s.pending is not None
            and s.pending.retry_at is None and at == s.expires_at)


def due_for(s: CheckoutState | None, *, recovery_grace: timedelta = RECOVERY_GRACE) -> Due | None:
    """The next moment the worker must resume ``s``, and why; None when nothing is due."""
    if s is None or s.is_terminal or s.status == "needs_attention":
        return None
    candidates: list[Due] = []
    at = next_due_at(s)
    if at is not None and _expiry_waits_on_a_step(s, at):
        at = None  # resume cannot expire a checkout mid-step: the step's own time comes first
    if at is not None:
        reason = ("compensation_retry" if s.compensation is not None
                  else "step_retry" if s.pending is not None and s.pending.retry_at == at
                  else "reservation_expiry")
        candidates.append(Due(at, reason))
    if _unfinished_intention(s):
        candidates.append(Due(s.updated_at + recovery_grace, "recovery"))
    if not candidates:
        return None
    return min(candidates, key=lambda d: d.at)


def due_for_order(o: OrderState | None, *,
                  recovery_grace: timedelta = RECOVERY_GRACE) -> Due | None:
    """A refund recorded as requested whose Stripe outcome never came (a lost reply, a crash,
    Stripe down) is re-sent with its idempotency key ``recovery_grace`` after it was asked
    for; the worker tries again while it stays requested (CONTRACT §3.2: within 60 s)."""
    if o is None:
        return None
    waiting = [r.created_at for r in o.refunds.values() if r.status == "requested"]
    return Due(min(waiting) + recovery_grace, "refund_recovery") if waiting else None


def due_for_inbox(entry: InboxEntry | None, *,
                  recovery_grace: timedelta = RECOVERY_GRACE) -> Due | None:
    """A Stripe event recorded but not applied: at its retry time when its re-read at Stripe
    failed, else (a crash between recording and applying) ``recovery_grace`` after it came."""
    if entry is None or entry.outcome is not None or entry.received is None:
        return None
    if entry.retry_at is not None:
        return Due(entry.retry_at, "webhook_retry")
    return Due(entry.received.occurred_at + recovery_grace, "webhook_recovery")
