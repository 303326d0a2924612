"""The AsyncAPI document of the events between the services, generated from ``contracts``."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import Any

import contracts
from contracts.events import STREAMS, Envelope, EventPayload


def _payload_classes() -> list[type[EventPayload]]:
    found: dict[str, type[EventPayload]] = {}
    for info in pkgutil.iter_modules(contracts.__path__):
        module = importlib.import_module(f"contracts.{info.name}")
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if (issubclass(obj, EventPayload) and obj is not EventPayload
                    and "name" in obj.__dict__ and obj.name != "event"
                    and not obj.__name__.endswith("Event")):
                found[obj.event_type()] = obj
    return sorted(found.values(), key=lambda c: c.subject())


def document() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for cls in _payload_classes():
        key = cls.__name__
        messages[key] = {
            "name": cls.event_type(),
            "title": key,
            "contentType": "application/json",
            "summary": (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else key,
            "payload": {"allOf": [{"$ref": "#/components/schemas/Envelope"},
                                  {"type": "object",
                                   "properties": {"data": cls.model_json_schema()}}]},
        }
        channels[key] = {"address": cls.subject(),
                         "messages": {key: {"$ref": f"#/components/messages/{key}"}}}
        operations[f"publish{key}"] = {
            "action": "send", "channel": {"$ref": f"#/channels/{key}"},
            "summary": f"published by the {cls.service} service through its outbox",
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Seteli events", "version": "1.0.0",
            "description": "CloudEvents envelopes on NATS JetStream, published through each "
            "service's transactional outbox with Nats-Msg-Id = event id. Streams: "
            + ", ".join(f"{name} ({subject})" for name, subject in STREAMS.items()),
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages,
                       "schemas": {"Envelope": Envelope.model_json_schema()}},
    }
