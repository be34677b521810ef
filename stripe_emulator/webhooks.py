"""Fan-out of events to the registered webhook endpoints.

The hub listens to the store (so it sees events in creation order, under the store
lock), turns the next webhook fault into a delivery plan, and hands each event to
the worker of every endpoint subscribed to its type (`enabled_events`, `["*"]` = all).
Endpoints come from `/v1/webhook_endpoints`, the `/_emulator/webhook_endpoints` control
route (every type unless `enabled_events` is given) and the configuration (every type).

`drop_webhook` is a lost notification: the event is never delivered, only `/v1/events`
has it, which is what the product's reconciliation must cope with. A `reorder_webhooks`
event held for an endpoint goes after the next event that endpoint receives (or after
the hold time, if none comes).
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

import msgspec

from stripe_emulator.config import EmulatorConfig
from stripe_emulator.delivery import Endpoint, EndpointWorker, Notice, Plan
from stripe_emulator.delivery_log import DeliveryLog
from stripe_emulator.errors import resource_missing
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
        self._objects: dict[str, Json] = {}
        self._holding = False
        self.deliveries = DeliveryLog(on_delivered=self._acknowledged)
        store.subscribe(self._on_event)

    def add_endpoint(
        self,
        url: str,
        secret: str,
        enabled_events: tuple[str, ...] = ("*",),
        description: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> Json:
        """Start delivering to `url`; the WebhookEndpoint object, without its secret."""
        endpoint = Endpoint(new_id("we"), url, secret, enabled_events)
        worker = EndpointWorker(endpoint, self._config, self.deliveries)
        obj: Json = {
            "id": endpoint.id,
            "object": "webhook_endpoint",
            "api_version": None,
            "application": None,
            "created": self._store.now(),
            "description": description,
            "enabled_events": list(enabled_events),
            "livemode": False,
            "metadata": metadata or {},
            "status": "enabled",
            "url": url,
        }
        with self._lock:
            self._workers.append(worker)
            self._objects[endpoint.id] = obj
        return obj

    def endpoint(self, endpoint_id: str) -> Json:
        with self._lock:
            found = self._objects.get(endpoint_id)
        if found is None:
            raise resource_missing("webhook_endpoint", endpoint_id)
        return found

    def update_endpoint(self, endpoint_id: str, changes: Json) -> Json:
        """`changes` of `url`, `enabled_events`, `status`, `description`, `metadata`."""
        with self._lock:
            obj = self._objects.get(endpoint_id)
            if obj is None:
                raise resource_missing("webhook_endpoint", endpoint_id)
            obj.update(changes)
            for worker in self._workers:
                if worker.endpoint.id == endpoint_id:
                    worker.endpoint = replace(
                        worker.endpoint,
                        url=obj["url"],
                        enabled_events=tuple(obj["enabled_events"]),
                        enabled=obj["status"] == "enabled",
                    )
            return obj

    def remove_endpoint(self, endpoint_id: str) -> None:
        with self._lock:
            if self._objects.pop(endpoint_id, None) is None:
                raise resource_missing("webhook_endpoint", endpoint_id)
            gone = [w for w in self._workers if w.endpoint.id == endpoint_id]
            self._workers = [w for w in self._workers if w.endpoint.id != endpoint_id]
        for worker in gone:
            worker.stop(wait=False)

    def endpoints(self) -> list[Json]:
        """In the order they were added."""
        with self._lock:
            return list(self._objects.values())

    def _on_event(self, event: Json) -> None:
        plan = self._plan()
        with self._lock:
            workers = [w for w in self._workers if w.endpoint.wants(event["type"])]
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
            self._objects.clear()
        for worker in workers:
            worker.stop()
