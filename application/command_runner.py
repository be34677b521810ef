"""Deciding and appending under optimistic concurrency: the one retry loop every command uses.

A command loads the states its decision needs, decides (pure), and appends the events in one
transaction. When someone else wrote one of those streams in between, the append conflicts
and the command decides again on fresh state; the loser of a race sees the winner's outcome
(for a buyer of a hot SKU: fewer units available, or ``insufficient_stock`` once none are).

How a hot SKU (a drop: hundreds of buyers of one stream at once) is kept from refusing a
buyer by accident — the design is *optimistic first, then queue per stream*:

1. The first attempt takes no lock: most commands touch streams nobody else is writing.
2. After a conflict, the command takes this process's lock of every stream its decision
   wrote (``StreamLocks``: first come, first served; in one global order) and retries
   holding them. Contenders of one process then queue and go one at a time instead of
   re-reading and conflicting again: the hot stream's writes are serialised — which its
   version check demands anyway — and nothing else is (reads, other SKUs and other
   processes' first attempts never wait). A newcomer whose decision writes a stream that
   others of its process already queue for joins the queue before appending, rather than
   racing its head.
3. Conflicts that remain come from other processes (or a first attempt racing a lock
   holder); they are retried with jittered back-off, still holding the locks.
4. All of it is bounded by time, not by a count: a command gives up with
   ``concurrency_conflict`` only after ``CONFLICT_BUDGET`` seconds, and every conflict means
   another buyer's write succeeded, so the stock runs out (a definite ``insufficient_stock``)
   long before the budget on any realistic drop.

Why not sharded stock or a lock inside the append's transaction: sharding changes the stored
events of inventory (a contract) and makes "available" a sum over shards; a database lock
would need the event store to hold a row lock across the decision, which the library's
recorder does not offer. The in-process queue gets the same effect without either.

Failure modes: (a) with P processes, up to P holders of one stream may still conflict with
each other — each conflict is progress for one of them, so throughput stays at one write per
append round trip; (b) a holder's decision may call out (reads of products and sellers) while
holding the lock, so a slow database read slows that stream's queue — bounded by the budget;
(c) if the budget is ever exhausted (a database stalled for ``CONFLICT_BUDGET`` seconds),
the buyer gets ``409 concurrency_conflict`` and nothing is reserved: the request is safe to
retry with the same session id."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

import structlog

from application.stream_locks import StreamLocks
from checkout_saga import errors, ports
from checkout_saga.decision import Decision, backoff

C = TypeVar("C")
log = structlog.get_logger("command_runner")

#: Something to do after events were recorded (e.g. issue an invoice once an order is paid).
#: It runs after the command's append succeeded and can never undo or fail that command.
Follower = Callable[[list], None]

#: How long one command keeps re-deciding after conflicts before it gives up with
#: ``concurrency_conflict``. Generous: a conflict means someone else made progress.
CONFLICT_BUDGET = 10.0
_FIRST_DELAY, _MAX_DELAY = 0.002, 0.05


class CommandRunner:
    def __init__(self, store: ports.EventStore, clock: ports.Clock, *,
                 observer: ports.SagaObserver | None = None,
                 conflict_budget: float = CONFLICT_BUDGET,
                 sleep: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.clock = clock
        self.observer = observer or ports.NullObserver()
        self.conflict_budget = conflict_budget
        self._sleep = sleep
        self._monotonic = monotonic
        self.locks = StreamLocks()
        self.followers: list[Follower] = []

    def decide_and_append(self, operation: str, load: Callable[[], C],
                          decide: Callable[[C], Decision], *,
                          loaded: C | None = None) -> tuple[Decision, C]:
        """Decide on ``loaded`` (or on what ``load`` reads) and append the decision's events;
        on a conflict, load again and decide again. Returns the decision and the states it
        was decided on; a refusal (``Decision.error``) is raised once its events are stored."""
        give_up_at = self._monotonic() + self.conflict_budget
        attempt = 0
        held: list = []
        try:
            while True:
                attempt += 1
                states = loaded if loaded is not None else load()
                decision = decide(states)
                wanted = {e.originator_id for e in decision.events}
                if wanted and not wanted <= set(held) and self.locks.contended(wanted):
                    # others of this process queue for these streams: join the queue (behind
                    # them, not racing its head), then decide again on what they wrote
                    held, loaded = self._queue(operation, held, wanted, give_up_at), None
                    continue
                try:
                    self.append(decision)
                except errors.ConcurrencyConflictError:
                    loaded = None
                    if self._monotonic() >= give_up_at:
                        raise errors.ConcurrencyConflictError(
                            f"{operation}: gave up after {attempt} conflicting writes") from None
                    self.observer.conflict_retried(operation=operation, attempt=attempt)
                    if not wanted <= set(held):  # queue behind this process's other writers
                        held = self._queue(operation, held, wanted, give_up_at)
                    else:  # a conflict with another process: back off, still in front
                        self._sleep(_conflict_delay(operation, attempt))
                    continue
                if decision.error is not None:
                    raise decision.error
                return decision, states
        finally:
            self.locks.release(held)

    def _queue(self, operation: str, held: list, wanted: set, give_up_at: float) -> list:
        """This process's locks of ``wanted`` (and of what is already held), in arrival order."""
        self.locks.release(held)
        taken = self.locks.acquire(wanted | set(held), timeout=give_up_at - self._monotonic())
        if taken is None:
            raise errors.ConcurrencyConflictError(
                f"{operation}: gave up waiting for a contended stream") from None
        return taken

    def append(self, decision: Decision) -> None:
        if decision.events:
            self.store.append(decision.events)
            self.observer.events_recorded(decision.events)
            self._follow(decision.events)

    def _follow(self, events: list) -> None:
        for follower in list(self.followers):
            try:
                follower(events)
            except Exception as exc:  # a follow-up left undone is resumed later, never raised
                log.warning("follow_up_failed", follower=getattr(follower, "__qualname__", "?"),
                            error_type=type(exc).__name__, error=str(exc)[:300])


def _conflict_delay(operation: str, attempt: int) -> float:
    """The saga's backoff with jitter; salted per call so that contenders spread out."""
    salt = f"{operation}:{random.getrandbits(32)}"
    return backoff(attempt, salt, base_seconds=_FIRST_DELAY, cap_seconds=_MAX_DELAY).total_seconds()
