"""What a running service holds, reached from routers through :data:`RuntimeDep`, and the one
call that builds a consumer of another service's stream from it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request

from kit.broker import NatsLink
from kit.consumer import BatchHandler, Consumer, Handler
from kit.db import Database
from kit.outbox import OutboxRelay
from kit.pagination import CursorSigner
from kit.settings import ServiceSettings
from kit.tables import PlumbingTables


@dataclass
class Runtime:
    """What a running service holds: reached from routers through :func:`runtime`."""

    settings: ServiceSettings
    db: Database
    plumbing: PlumbingTables
    link: NatsLink
    relay: OutboxRelay
    consumers: list[Consumer] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    cursors: CursorSigner = field(init=False)

    def __post_init__(self) -> None:
        self.cursors = CursorSigner(self.settings.principal_secret)

    def consumer(self, name: str, *, stream: str, handlers: Mapping[str, Handler],
                 batched: bool = False, batch: int | None = None,
                 batch_handlers: Mapping[str, BatchHandler] | None = None) -> Consumer:
        """A durable consumer ``name`` of ``stream`` that applies ``handlers`` (event type →
        handler) in this service's database, with the service's delivery settings;
        ``batched``: each fetched batch (``batch`` events, else the service's setting) in one
        transaction (kit.consumer)."""
        s = self.settings
        return Consumer(
            name=name, stream=stream, handlers=handlers, db=self.db, plumbing=self.plumbing,
            link=self.link, service=s.service_name, max_deliver=s.consumer_max_deliver,
            ack_wait=s.consumer_ack_wait_seconds, batch=batch or s.consumer_batch,
            batched=batched, batch_handlers=batch_handlers,
        )


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


RuntimeDep = Annotated[Runtime, Depends(runtime)]
