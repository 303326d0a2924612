"""One OpenAPI document for the public API: the services' documents, restricted to the paths
the gateway routes, under ``/api/v1``, with their components merged (a schema name two services
use differently is prefixed with the service's name)."""

from __future__ import annotations

import copy
import json
from typing import Any

from gateway.routing import ROUTES

PUBLIC_PREFIX = "/api/v1"


def _renamed(doc: dict[str, Any], service: str, taken: dict[str, Any]) -> dict[str, Any]:
    clashes = [name for name, schema in doc.get("components", {}).get("schemas", {}).items()
               if name in taken and taken[name] != schema]
    if not clashes:
        return doc
    text = json.dumps(doc)
    for name in clashes:
        text = text.replace(f'"#/components/schemas/{name}"',
                            f'"#/components/schemas/{service}_{name}"')
    renamed: dict[str, Any] = json.loads(text)
    schemas = renamed["components"]["schemas"]
    for name in clashes:
        schemas[f"{service}_{name}"] = schemas.pop(name)
    return renamed


def merge(base: dict[str, Any], documents: dict[str, dict[str, Any]]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    out.setdefault("paths", {})
    schemas: dict[str, Any] = out.setdefault("components", {}).setdefault("schemas", {})
    tags: dict[str, dict[str, Any]] = {t["name"]: t for t in out.get("tags", [])}
    for service, original in documents.items():
        doc = _renamed(original, service, schemas)
        for path, item in doc.get("paths", {}).items():
            resource = path.lstrip("/").split("/", 1)[0]
            if ROUTES.get(resource) != service:
                continue  # internal or operational: not public
            out["paths"][PUBLIC_PREFIX + path] = item
            for op in item.values():
                if isinstance(op, dict):
                    for tag in op.setdefault("tags", [service]):
                        tags.setdefault(tag, {"name": tag})
        schemas.update(doc.get("components", {}).get("schemas", {}))
    out["tags"] = list(tags.values())
    return out
