"""Fan-out of events to the registered webhook endpoints.

The hub listens to the store (so it sees events in creation order, under the store
lock), turns the next webhook fault into a delivery plan, and hands each event to
every endpoint's worker. `drop_webhook` is a lost notification: the event is never
delivered, only `/v1/events` has it, which is what the product's reconciliation must
cope with.
"""

from __future__ import annotations

import threading
from typing import Any

import msgspec

from stripe_emulator.config import EmulatorConfig
from stripe_emulator.delivery import Endpoint, EndpointWorker, Notice, Plan
from stripe_emulator.delivery_log import DeliveryLog
from stripe_emulator.faults import FaultBook
from stripe_emulator.ids import new_id
from stripe_emulator.state import Store

Json = dict[str, Any]
_PLANS = {
    None: Plan.NORMAL,
    "duplicate_webhook": Plan.DUPLICATE,
    "reorder_webhooks": Plan.HOLD,
    "drop_webhook": Plan.DROP,
}


class WebhookHub:
    def __init__(self, store: Store, faults: FaultBook, config: EmulatorConfig) -> None:
        self._store = store
        self._faults = faults
        self._config = config
        self._lock = threading.Lock()
        self._workers: list[EndpointWorker] = []
        self._holding = False
        self.deliveries = DeliveryLog(on_delivered=self._acknowledged)
        store.subscribe(self._on_event)

    def add_endpoint(self, url: str, secret: str) -> Json:
        endpoint = Endpoint(new_id("we"), url, secret)
        worker = EndpointWorker(endpoint, self._config, self.deliveries)
        with self._lock:
            self._workers.append(worker)
        return {
            "id": endpoint.id,
            "object": "webhook_endpoint",
            "url": url,
            "enabled_events": ["*"],
        }

    def endpoints(self) -> list[Json]:
        with self._lock:
            return [
                {"id": w.endpoint.id, "object": "webhook_endpoint", "url": w.endpoint.url}
                for w in self._workers
            ]

    def _on_event(self, event: Json) -> None:
        plan = self._plan()
        with self._lock:
            workers = list(self._workers)
        if plan is not Plan.DROP:
            event["pending_webhooks"] = len(workers)
        notice = Notice(event["id"], event["type"], msgspec.json.encode(event).decode())
        for worker in workers:
            worker.submit(notice, plan)

    def _plan(self) -> Plan:
        """Called under the store lock, once per event, in creation order."""
        if self._holding:
            self._holding = False
            return Plan.RELEASE_AFTER
        plan = _PLANS[self._faults.take_webhook_fault()]
        self._holding = plan is Plan.HOLD
        return plan

    def _acknowledged(self, event_id: str) -> None:
        with self._store.lock:
            event = self._store.table("event").get(event_id)
            if event is not None and event["pending_webhooks"] > 0:
                event["pending_webhooks"] -= 1

    def reset(self) -> None:
        """Forget endpoints registered at run time and every delivery record."""
        self.stop()
        self.deliveries.reset()
        self._holding = False

    def stop(self) -> None:
        with self._lock:
            workers, self._workers = self._workers, []
        for worker in workers:
            worker.stop()
