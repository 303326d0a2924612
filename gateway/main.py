"""The gateway app: ``uvicorn gateway.main:app``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import structlog
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from gateway.proxy import Upstreams
from gateway.routing import owner
from gateway.settings import Settings
from kit.errors import NotFound, install_problem_handlers, problem_response
from kit.logging import configure_logging
from kit.middleware import RequestContextMiddleware


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings.log_level, json=settings.log_json, service="gateway")
    urls = {
        "registry": settings.registry_url.rstrip("/"),
        "voucher": settings.voucher_url.rstrip("/"),
        "matching": settings.matching_url.rstrip("/"),
    }

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.upstreams = Upstreams(
            urls,
            timeout=settings.upstream_timeout_seconds,
            connect_timeout=settings.upstream_connect_timeout_seconds,
            pool_size=settings.upstream_pool_size,
        )
        try:
            yield
        finally:
            await app.state.upstreams.close()

    app = FastAPI(
        title="Seteli",
        description="Public API of the Seteli service-voucher marketplace.",
        version="1.0.0",
        lifespan=lifespan,
    )
    install_problem_handlers(app)
    app.add_middleware(RequestContextMiddleware, service="gateway")
    router = APIRouter()

    @router.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", tags=["operations"], responses={503: {"description": "not ready"}})
    async def readyz(request: Request) -> Response:
        client: httpx.AsyncClient = request.app.state.upstreams.client

        async def check(url: str) -> str:
            try:
                r = await client.get(url + "/readyz", timeout=2.0)
                return "ok" if r.status_code == 200 else f"status {r.status_code}"
            except httpx.HTTPError as exc:
                return f"error: {type(exc).__name__}"

        results = await asyncio.gather(*(check(u) for u in urls.values()))
        checks = dict(zip(urls, results, strict=True))
        if all(v == "ok" for v in checks.values()):
            return JSONResponse({"status": "ready", "checks": checks})
        return problem_response(
            request, status=503, title="Service Unavailable",
            detail=", ".join(f"{k}: {v}" for k, v in checks.items()),
        )

    @router.get("/metrics", tags=["operations"], response_class=Response)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @router.api_route(
        "/api/v1/{path:path}",
        methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        include_in_schema=False,
    )
    async def proxy(path: str, request: Request) -> Response:
        target = owner(path)
        if target is None:
            raise NotFound(f"no such resource: /api/v1/{path}")
        service, upstream_path = target
        rid = structlog.contextvars.get_contextvars().get("request_id", "")
        upstreams: Upstreams = request.app.state.upstreams
        return await upstreams.forward(request, service, upstream_path, rid)

    app.include_router(router)
    return app


app = create_app()
