"""Starting and stopping what delivers: the webhook worker, and the NATS publisher
when a NATS URL is given. ``segmentry serve`` runs them beside the server,
``segmentry deliver`` alone."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from sqlalchemy.engine import Engine

from segmentry.engine.delivery.loop import Service
from segmentry.engine.delivery.stream import StreamPublisher, StreamSettings
from segmentry.engine.delivery.worker import DeliverySettings, WebhookWorker


@dataclass
class Delivery:
    services: list[Service] = field(default_factory=list)

    def stop(self) -> None:
        for service in self.services:
            service.stop()


def start(
    database: Engine,
    *,
    allow_private_webhooks: bool = False,
    nats_url: str | None = None,
    concurrency: int | None = None,
) -> Delivery:
    settings = DeliverySettings(allow_private=allow_private_webhooks)
    if concurrency is not None:
        settings = replace(settings, concurrency=concurrency)
    running = Delivery([WebhookWorker(database, settings)])
    if nats_url:
        running.services.append(StreamPublisher(database, StreamSettings(url=nats_url)))
    for service in running.services:
        service.start()
    return running
