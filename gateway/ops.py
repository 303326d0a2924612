"""Operations and documents: ``/healthz``, ``/readyz``, ``/metrics``, the merged OpenAPI
document (its Swagger UI page is ``gateway.docs``), and the AsyncAPI document of the events."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Callable
from typing import Any

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from gateway import asyncapi
from gateway.openapi import MergedOpenApi
from gateway.runtime import Gate
from kit.errors import NotFound, problem_response


def internal_request(request: Request) -> bool:
    """A request from this machine or the private network, not relayed by a proxy: how a
    metrics scraper calls, and how no one on the internet can (their requests come through the
    load balancer, which adds forwarding headers)."""
    client = request.client.host if request.client else ""
    if any(h in request.headers for h in ("forwarded", "x-forwarded-for", "x-real-ip")):
        return False
    try:
        address = ipaddress.ip_address(client.strip("[]"))
    except ValueError:
        return False
    return address.is_loopback or address.is_private


def router(gate: Gate, own_document: Callable[[], dict[str, Any]]) -> APIRouter:
    """``own_document`` gives the gateway's own OpenAPI document (merged with the services')."""
    router = APIRouter()
    settings, urls = gate.settings, gate.urls
    merged = MergedOpenApi(urls)

    @router.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> Response:
        assert gate.http is not None
        client = gate.http

        async def check(url: str) -> str:
            try:
                r = await client.get(url + "/readyz", timeout=2.0)
                return "ok" if r.status_code == 200 else f"status {r.status_code}"
            except httpx.HTTPError as exc:
                return f"error: {type(exc).__name__}"

        async def any_ready(instances: list[str]) -> str:
            """A service with several instances is ready when one of them is."""
            results = await asyncio.gather(*(check(u) for u in instances))
            return "ok" if "ok" in results else results[0]

        instances = settings.instances()
        results = await asyncio.gather(*(any_ready(instances[name]) for name in urls))
        checks = dict(zip(urls, results, strict=True))
        if all(v == "ok" for v in checks.values()):
            return JSONResponse({"status": "ready", "checks": checks})
        return problem_response(request, status=503, title="Service Unavailable",
                                detail=", ".join(f"{k}: {v}" for k, v in checks.items()))

    @router.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        if not settings.metrics_public and not internal_request(request):
            raise NotFound("no such page")
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @router.get("/openapi.json", include_in_schema=False)
    async def openapi_json() -> JSONResponse:
        assert gate.http is not None
        return JSONResponse(await merged.document(own_document(), gate.http))

    @router.get("/asyncapi.json", include_in_schema=False)
    async def asyncapi_json() -> JSONResponse:
        return JSONResponse(asyncapi.document())

    return router
