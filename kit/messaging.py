"""Where the messaging plumbing lives now (this module only re-exports it):
:mod:`kit.outbox` (``add_event``, ``OutboxRelay``), :mod:`kit.broker` (``NatsLink``,
``ensure_streams``) and :mod:`kit.consumer` (``Consumer``, ``build_consumer``)."""

from kit.broker import NatsLink, ensure_streams
from kit.consumer import Consumer, Handler
from kit.outbox import OutboxRelay, add_event

__all__ = ["Consumer", "Handler", "NatsLink", "OutboxRelay", "add_event", "ensure_streams"]
