"""One OpenAPI document for the public API: each service's ``/openapi.json``, restricted to the
paths the routing table exposes, under ``/api/v1``, with their components merged (a schema name
two services use differently is prefixed with the service's name; every schema's title is its
name, so no two are alike; schemas no public path uses are left out), the ways to
authenticate, and the answers the gateway itself may give (401, 413, 429, 502, 503, 504).

The merged document is cached; a service that cannot be reached is represented by its last
good document, and the merge is tried again soon.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
from typing import Any

import httpx
import structlog

from contracts.principal import HEADER
from gateway.routing import ROUTES, resource_of
from kit.openapi import without_unreferenced_schemas

PUBLIC_PREFIX = "/api/v1"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
log = structlog.get_logger("gateway.openapi")

SECURITY_SCHEMES: dict[str, Any] = {
    "sessionToken": {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
        "description": "A session token of a citizen, a region admin or provider staff "
        "(after OpenID Connect login; in development from `POST /auth/dev-token`)."},
    "apiKey": {
        "type": "apiKey", "in": "header", "name": "X-API-Key",
        "description": "A provider system's API key (`stl_…`), issued by `POST "
        "/api/v1/providers/{provider_id}/api-keys`. Also accepted as `Authorization: Bearer "
        "stl_…`."},
    "sessionCookie": {
        "type": "apiKey", "in": "cookie", "name": "seteli_session",
        "description": "The browser session (`__Host-seteli_session` over TLS). Writes also "
        "need `X-CSRF-Token` equal to the `seteli_csrf` cookie."},
}
# Everyone may call; what a caller may do is decided by the owning service ({} = anonymous).
SECURITY: list[dict[str, list[str]]] = [{}, {"sessionToken": []}, {"apiKey": []},
                                        {"sessionCookie": []}]
GATEWAY_RESPONSES: dict[str, tuple[str, str]] = {
    "401": ("Unauthorized", "credentials were sent but are not valid"),
    "413": ("ContentTooLarge", "the request body is over the gateway's limit"),
    "429": ("TooManyRequests", "the caller is over its request rate; see Retry-After"),
    "502": ("BadGateway", "the owning service cannot be reached"),
    "503": ("ServiceUnavailable", "credentials cannot be checked right now, or the owning "
            "service's database was busy (nothing was written; send again after Retry-After)"),
    "504": ("GatewayTimeout", "the owning service did not answer in time"),
}


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


def public_path(service: str, path: str) -> bool:
    return ROUTES.get(resource_of(path)) == service


def merge(base: dict[str, Any], documents: dict[str, dict[str, Any]]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    out.setdefault("paths", {})
    components = out.setdefault("components", {})
    schemas: dict[str, Any] = components.setdefault("schemas", {})
    responses: dict[str, Any] = components.setdefault("responses", {})
    components.setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)
    out["security"] = SECURITY
    tags: dict[str, dict[str, Any]] = {t["name"]: t for t in out.get("tags", [])}
    operation_ids: set[str] = set()
    for service, original in sorted(documents.items()):
        doc = _renamed(original, service, schemas)
        for path, item in doc.get("paths", {}).items():
            if not public_path(service, path):
                continue  # internal or operational: not public
            item = copy.deepcopy(item)
            for method in METHODS:
                op = item.get(method)
                if isinstance(op, dict):
                    _publish_operation(op, service, operation_ids, tags)
            out["paths"][PUBLIC_PREFIX + path] = item
        schemas.update(doc.get("components", {}).get("schemas", {}))
    if "ProblemDetail" in schemas:
        for name, description in GATEWAY_RESPONSES.values():
            responses[name] = {"description": description, "content": {
                "application/problem+json": {
                    "schema": {"$ref": "#/components/schemas/ProblemDetail"}}}}
        for path, item in out["paths"].items():
            for method in METHODS:
                op = item.get(method)
                if not isinstance(op, dict):
                    continue
                if op.get("x-seteli-service"):
                    statuses = list(GATEWAY_RESPONSES)
                else:  # the gateway's own: /auth/* is rate-limited, every body is bounded
                    statuses = (["429"] if path.startswith("/auth/") else []) + (
                        ["413"] if "requestBody" in op else [])
                for status in statuses:
                    op.setdefault("responses", {}).setdefault(
                        status, {"$ref": f"#/components/responses/{GATEWAY_RESPONSES[status][0]}"})
    out["tags"] = list(tags.values())
    for name, schema in schemas.items():
        # generators name their types by title: one title per schema, and no two alike
        schema["title"] = name
    return without_unreferenced_schemas(out)


def _publish_operation(op: dict[str, Any], service: str, operation_ids: set[str],
                       tags: dict[str, dict[str, Any]]) -> None:
    # The principal header is the gateway's to set, never the client's.
    op["parameters"] = [p for p in op.get("parameters", [])
                        if not (p.get("in") == "header"
                                and str(p.get("name", "")).lower() == HEADER.lower())]
    if not op["parameters"]:
        del op["parameters"]
    op["x-seteli-service"] = service
    oid = op.get("operationId")
    if oid:
        if oid in operation_ids:
            oid = op["operationId"] = f"{service}_{oid}"
        operation_ids.add(oid)
    for tag in op.setdefault("tags", [service]):
        tags.setdefault(tag, {"name": tag})


class MergedOpenApi:
    """The merged document, fetched from the services and cached for ``ttl`` seconds."""

    def __init__(self, urls: dict[str, str], *, ttl: float = 30.0, retry: float = 5.0,
                 timeout: float = 5.0) -> None:
        self.urls = urls
        self.ttl = ttl
        self.retry = retry
        self.timeout = timeout
        self._last_good: dict[str, dict[str, Any]] = {}
        self._merged: tuple[float, dict[str, Any]] | None = None
        self._lock = asyncio.Lock()

    async def document(self, base: dict[str, Any], client: httpx.AsyncClient
                       ) -> dict[str, Any]:
        if self._merged and self._merged[0] > time.monotonic():
            return self._merged[1]
        async with self._lock:
            if self._merged and self._merged[0] > time.monotonic():
                return self._merged[1]
            results = await asyncio.gather(*(self._fetch(client, name, url)
                                             for name, url in self.urls.items()))
            complete = all(results)
            doc = merge(base, dict(self._last_good))
            self._merged = (time.monotonic() + (self.ttl if complete else self.retry), doc)
            return doc

    async def _fetch(self, client: httpx.AsyncClient, name: str, url: str) -> bool:
        try:
            r = await client.get(url + "/openapi.json", timeout=self.timeout)
            if r.status_code == 200:
                self._last_good[name] = r.json()
                return True
            log.warning("openapi_unavailable", service=name, status=r.status_code)
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("openapi_unavailable", service=name, error=type(exc).__name__)
        return False
