"""The AsyncAPI document of the events between the services, generated from ``contracts``."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import Any

from pydantic import BaseModel

import contracts
from contracts.events import STREAMS, Envelope, EventPayload


def _payload_classes() -> list[type[EventPayload]]:
    found: dict[str, type[EventPayload]] = {}
    for info in pkgutil.iter_modules(contracts.__path__):
        module = importlib.import_module(f"contracts.{info.name}")
        for _, obj in inspect.getmembers(module, inspect.isclass):
            # concrete events name themselves; bases (RegistryEvent, OfferingEvent…) do not,
            # or keep the placeholder name "event"
            if (issubclass(obj, EventPayload) and obj is not EventPayload
                    and "name" in obj.__dict__ and obj.name != "event"):
                found[obj.event_type()] = obj
    return sorted(found.values(), key=lambda c: c.subject())


REF = "#/components/schemas/{model}"


def _schema(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, Any]:
    """The model's JSON schema with its nested definitions moved to ``components.schemas`` (a
    ``#/$defs/...`` reference would not resolve inside a larger document)."""
    schema = model.model_json_schema(ref_template=REF)
    for name, definition in schema.pop("$defs", {}).items():
        schemas.setdefault(name, definition)
    return schema


def document() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    schemas: dict[str, Any] = {"Envelope": _schema(Envelope, {})}
    for cls in _payload_classes():
        key = cls.__name__
        schemas[key] = _schema(cls, schemas)
        messages[key] = {
            "name": cls.event_type(),
            "title": key,
            "contentType": "application/json",
            "summary": (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else key,
            "payload": {"allOf": [{"$ref": "#/components/schemas/Envelope"},
                                  {"type": "object",
                                   "properties": {
                                       "type": {"const": cls.event_type()},
                                       "data": {"$ref": f"#/components/schemas/{key}"}}}]},
        }
        channels[key] = {"address": cls.subject(),
                         "messages": {key: {"$ref": f"#/components/messages/{key}"}}}
        operations[f"publish{key}"] = {
            "action": "send", "channel": {"$ref": f"#/channels/{key}"},
            "summary": f"published by the {cls.service} service through its outbox",
            "messages": [{"$ref": f"#/channels/{key}/messages/{key}"}],
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
        "components": {"messages": messages, "schemas": schemas},
    }
