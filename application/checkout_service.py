"""Checkout commands and the saga's drive loop: load states, decide, append atomically,
perform the next effect through the ports, record its outcome; repeat until the saga waits.
Every command is safe to repeat and to race: a stale append is decided again on fresh state
(``CommandRunner``), so the loser of a race sees the winner's outcome."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from application.catalog_service import CatalogService
from application.command_runner import CommandRunner
from application.payment_effects import PaymentEffects, step_of
from application.start_reads import read_for_start
from checkout_saga import effects as fx
from checkout_saga import errors, ports
from checkout_saga.checkout import CheckoutState, fold_checkout
from checkout_saga.checkout_decisions import (
    decide_cancel,
    decide_confirm,
    decide_escalation,
    decide_expire,
    decide_observation,
    decide_resolve,
    decide_retry,
    decide_step_result,
)
from checkout_saga.commands import StartCheckout
from checkout_saga.decision import Decision
from checkout_saga.ids import (
    CHECKOUT_PREFIX,
    checkout_id_of,
    checkout_stream,
    order_stream,
    parse_prefixed,
)
from checkout_saga.order import fold_order
from checkout_saga.pricing import Pricing
from checkout_saga.saga import DEFAULT_RESERVATION_TTL, decide_start, next_effect
from checkout_saga.saga_context import SagaContext
from events.base import Cause
from events.checkout import PaymentDeclined, PaymentStepRequested

MAX_DRIVE_STEPS = 12
#: A confirm waits for at most this many other in-flight confirms before trying its card.
MAX_CONFIRM_ROUNDS = 3


def _confirm_requested(events: list, payment_method: str | None) -> str | None:
    """The key of the confirm step this decision requested with ``payment_method``."""
    for e in events:
        if (isinstance(e, PaymentStepRequested) and e.step == "confirm"
                and e.payment_method == payment_method):
            return e.idempotency_key
    return None


@dataclass(frozen=True)
class _StartReads:
    """What a start is decided on: the saga's states, and the catalog as it is now."""

    ctx: SagaContext
    products: dict
    sellers: dict


class StartResult:
    def __init__(self, checkout: CheckoutState, created: bool) -> None:
        self.checkout = checkout
        self.created = created


class CheckoutService:
    def __init__(self, runner: CommandRunner, catalog: CatalogService, effects: PaymentEffects, *,
                 reservation_ttl: timedelta = DEFAULT_RESERVATION_TTL,
                 pricing: Pricing | None = None) -> None:
        self.runner = runner
        self.store = runner.store
        self.clock = runner.clock
        self.catalog = catalog
        self.effects = effects
        self.reservation_ttl = reservation_ttl
        self.pricing = pricing or Pricing()

    # --- queries ---------------------------------------------------------------------------

    def get(self, checkout_id: str, at_version: int | None = None) -> CheckoutState:
        sid = self._checkout_sid(checkout_id)
        state = self.store.get(sid, fold_checkout, at_version=at_version)
        if state is None:
            raise errors.NotFoundError(f"no checkout {checkout_id}", checkout_id=checkout_id)
        return state

    def history(self, checkout_id: str) -> list:
        events = self.store.stream(self._checkout_sid(checkout_id))
        if not events:
            raise errors.NotFoundError(f"no checkout {checkout_id}", checkout_id=checkout_id)
        return events

    # --- checkout commands -----------------------------------------------------------------

    def start_checkout(self, cmd: StartCheckout, cause: Cause | None = None) -> StartResult:
        sid = checkout_stream(cmd.checkout_session_id)

        def load() -> _StartReads:
            reads = read_for_start(self.store, sid, [line.sku for line in cmd.items])
            if reads.checkout is not None:  # a replay: the saga may go on from here
                return _StartReads(self._load_context(sid), {}, {})
            return _StartReads(SagaContext(sid, None, reads.inventory), reads.products,
                               reads.sellers)

        def decide(loaded: _StartReads) -> Decision:
            if loaded.ctx.checkout is None:
                self.effects.require_available()  # a new checkout reserves nothing while Stripe is down
            return decide_start(cmd, loaded.ctx.checkout, loaded.products, loaded.sellers,
                                loaded.ctx.inventory, stream_id=sid, now=self.clock.now(),
                                reservation_ttl=self.reservation_ttl, cause=cause,
                                pricing=self.pricing)

        decision, loaded = self.runner.decide_and_append("start_checkout", load, decide)
        ctx = loaded.ctx.advanced(decision.events)
        created = bool(decision.events)
        state, recorded = self._drive_recording(sid, decision.effects, cause, ctx)
        if created:
            self._raise_if_declined(state, decision.events + recorded)
        return StartResult(state, created)

    def confirm_payment(self, checkout_id: str, payment_method: str | None = None,
                        return_url: str | None = None, cause: Cause | None = None) -> CheckoutState:
        sid = self._checkout_sid(checkout_id)
        for _ in range(MAX_CONFIRM_ROUNDS):
            decision, ctx = self._in_context("confirm", sid, lambda c: decide_confirm(
                c.checkout, payment_method=payment_method, return_url=return_url,
                now=self.clock.now(), cause=cause))
            results: dict[str, object] = {}
            state, _ = self._drive_recording(sid, decision.effects, cause, ctx, results)
            own_key = _confirm_requested(decision.events, payment_method)
            if payment_method is None or own_key is not None:
                break
            # Another confirm was in flight (another card, another tab): it finished first;
            # now try this customer's card, unless that one settled the checkout.
            if state.status not in ("awaiting_payment", "requires_action"):
                break
        if payment_method is not None and own_key is not None:
            self._raise_if_own_step_declined(state, results.get(own_key))
        return state

    def cancel(self, checkout_id: str, reason: str = "cancelled by the customer",
               cause: Cause | None = None) -> CheckoutState:
        sid = self._checkout_sid(checkout_id)
        decision, ctx = self._in_context("cancel", sid, lambda c: decide_cancel(
            c.checkout, c.inventory, c.order, reason=reason, now=self.clock.now(), cause=cause))
        return self._drive(sid, decision.effects, cause, ctx)

    def expire(self, checkout_id: str, cause: Cause | None = None) -> CheckoutState:
        sid = self._checkout_sid(checkout_id)
        cause = cause or Cause(kind="timer", ref="reservation_expiry")
        decision, ctx = self._in_context("expire", sid, lambda c: decide_expire(
            c.checkout, c.inventory, c.order, now=self.clock.now(), cause=cause))
        return self._drive(sid, decision.effects, cause, ctx)

    def resume(self, checkout_id: str, cause: Cause | None = None) -> CheckoutState:
        """Re-run whatever intention is due with its recorded key (crash recovery, retries),
        and expire the reservation if its time has come."""
        cause = cause or Cause(kind="recovery")
        state = self.get(checkout_id)
        if state.reservation_expired(self.clock.now()) and state.status != "processing":
            return self.expire(checkout_id, cause)  # a step in flight reports first
        effect = next_effect(state, self.clock.now())
        return self._drive(state.id, [effect] if effect else [], cause)

    def apply_payment_snapshot(self, snap: ports.PaymentIntentSnapshot,
                               cause: Cause | None = None) -> CheckoutState | None:
        """Apply what the provider says an intent is now (webhook, reconciliation)."""
        if snap.checkout_id is None:
            return None
        sid = parse_prefixed(snap.checkout_id, CHECKOUT_PREFIX)
        if sid is None or self.store.get(sid, fold_checkout) is None:
            return None
        decision, ctx = self._in_context("observe", sid, lambda c: decide_observation(
            c.checkout, snap, c.inventory, c.order, now=self.clock.now(), cause=cause))
        return self._drive(sid, decision.effects, cause, ctx)

    def retry(self, checkout_id: str, *, actor: str, note: str | None = None) -> CheckoutState:
        sid = self._checkout_sid(checkout_id)
        decision, ctx = self._in_context("retry", sid, lambda c: decide_retry(
            c.checkout, actor=actor, note=note, now=self.clock.now()))
        return self._drive(sid, decision.effects, Cause(kind="operator", actor=actor, note=note), ctx)

    def escalate(self, checkout_id: str, *, reason: str, cause: Cause) -> CheckoutState:
        """Hand a checkout to an operator (``needs_attention``), e.g. from reconciliation."""
        sid = self._checkout_sid(checkout_id)
        _, ctx = self._in_context("escalate", sid, lambda c: decide_escalation(
            c.checkout, reason=reason, now=self.clock.now(), cause=cause))
        return ctx.checkout

    def resolve(self, checkout_id: str, *, actor: str, note: str) -> CheckoutState:
        sid = self._checkout_sid(checkout_id)
        self.runner.decide_and_append(
            "resolve", lambda: self._load_checkout(sid),
            lambda s: decide_resolve(s, actor=actor, note=note, now=self.clock.now()))
        return self._load_checkout(sid)

    # --- the shell -------------------------------------------------------------------------

    def _drive(self, sid: UUID, effects: list[fx.Effect], cause: Cause | None,
               ctx: SagaContext | None = None) -> CheckoutState:
        return self._drive_recording(sid, effects, cause, ctx)[0]

    def _drive_recording(
        self, sid: UUID, effects: list[fx.Effect], cause: Cause | None,
        ctx: SagaContext | None = None, results: dict[str, object] | None = None,
    ) -> tuple[CheckoutState, list]:
        """Perform effects and record their outcomes until the saga waits; returns the
        state and the events this call recorded (and each call's result by key in
        ``results``)."""
        recorded: list = []
        for _ in range(MAX_DRIVE_STEPS):
            if not effects:
                break
            effect = effects[0]
            step, key = step_of(effect)
            result = self.effects.perform(effect, owner_id=checkout_id_of(sid))
            if results is not None:
                results[key] = result
            decision, ctx = self._decide_in_context(
                step, lambda: self._load_context(sid),
                lambda c, step=step, key=key, result=result: decide_step_result(
                    c.checkout, step, key, result, c.inventory, c.order, now=self.clock.now(),
                    cause=cause),
                ctx)
            recorded.extend(decision.events)
            effects = decision.effects
        if ctx is None or ctx.checkout is None:
            return self._load_checkout(sid), recorded
        return ctx.checkout, recorded

    def _load_context(self, sid: UUID) -> SagaContext:
        state = self._load_checkout(sid)
        inventory = {line.sku: self.catalog.get_inventory(line.sku) for line in state.items}
        order = self.store.get(order_stream(sid), fold_order) if state.order_id else None
        return SagaContext(sid, state, inventory, order)

    def _in_context(self, operation: str, sid: UUID,
                    decide: Callable[[SagaContext], Decision]) -> tuple[Decision, SagaContext]:
        return self._decide_in_context(operation, lambda: self._load_context(sid), decide)

    def _decide_in_context(
        self, operation: str, load: Callable[[], SagaContext],
        decide: Callable[[SagaContext], Decision], ctx: SagaContext | None = None,
    ) -> tuple[Decision, SagaContext]:
        """Decide and append; returns the decision and the states after it."""
        decision, ctx = self.runner.decide_and_append(operation, load, decide, loaded=ctx)
        return decision, ctx.advanced(decision.events)

    def _raise_if_declined(self, state: CheckoutState, recorded: list) -> None:
        if any(isinstance(e, PaymentDeclined) for e in recorded):
            self._raise_declined(state)

    def _raise_if_own_step_declined(self, state: CheckoutState, result: object) -> None:
        """402 when this caller's own confirm was refused (its card, not another's)."""
        if isinstance(result, ports.CardDeclinedError | ports.PaymentRequestRejectedError):
            self._raise_declined(state)

    def _raise_declined(self, state: CheckoutState) -> None:
        if state.status == "awaiting_payment":
            error = state.last_payment_error
            raise errors.CardDeclinedDomainError(
                error.message if error and error.message else "the card was declined",
                checkout_id=state.checkout_id, decline_code=error.decline_code if error else None,
                checkout=state)

    def _load_checkout(self, sid: UUID) -> CheckoutState:
        state = self.store.get(sid, fold_checkout)
        if state is None:
            raise errors.NotFoundError("no such checkout")
        return state

    def _checkout_sid(self, checkout_id: str) -> UUID:
        sid = parse_prefixed(checkout_id, CHECKOUT_PREFIX)
        if sid is None:
            raise errors.NotFoundError(f"no checkout {checkout_id}", checkout_id=checkout_id)
        return sid
