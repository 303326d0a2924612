"""The service app factory: one shape for every backend service.

``create_service_app`` wires settings, the database, the NATS link, the outbox relay and the
service's consumers into a FastAPI app with ``/healthz``, ``/readyz``, ``/metrics``, request ids,
JSON logs and problem+json errors.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import MetaData

from kit import openapi
from kit.broker import NatsLink
from kit.consumer import Consumer
from kit.db import Database
from kit.dead_letters import DeadLetterPosition, admin_dead_letter_router, newest
from kit.errors import install_problem_handlers, problem_response, problems
from kit.heap import settled_heap
from kit.housekeeping import Retention, prune
from kit.jobs import Job, schedule
from kit.logging import configure_logging
from kit.middleware import AllowedMethods, RequestContextMiddleware
from kit.migrate import upgrade
from kit.outbox import OutboxRelay
from kit.pagination import CursorKind, LimitQuery
from kit.runtime import Runtime, RuntimeDep
from kit.settings import ServiceSettings
from kit.tables import PlumbingTables
from kit.tasks import cancel_and_wait

ConsumerFactory = Callable[[Runtime], Sequence[Consumer]]


JobFactory = Callable[[Runtime], Sequence[Job]]


def housekeeping(rt: Runtime) -> Job:
    """Every service prunes its plumbing tables (``kit.housekeeping``)."""
    settings = rt.settings
    retention = Retention.of(settings)

    async def prune_tables(rt: Runtime) -> dict[str, int]:
        return await prune(rt.db, rt.plumbing, retention, service=settings.service_name)

    return Job("housekeeping", settings.housekeeping_interval_seconds, prune_tables)


def create_service_app(
    *,
    settings: ServiceSettings,
    metadata: MetaData,
    plumbing: PlumbingTables,
    migrations: str,
    routers: Sequence[APIRouter],
    consumers: ConsumerFactory | None = None,
    jobs: JobFactory | None = None,
    title: str,
    description: str,
    version: str = "1.0.0",
    migrate_on_start: bool = True,
) -> FastAPI:
    service = settings.service_name
    configure_logging(settings.log_level, json=settings.log_json, service=service)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(settings.database_url, schema=settings.database_schema)
        if migrate_on_start:
            await upgrade(db, migrations, service=service)
        link = NatsLink(settings.nats_url, name=service, replicas=settings.stream_replicas)
        relay = OutboxRelay(
            db, plumbing, link, service=service,
            batch=settings.outbox_batch, poll_seconds=settings.outbox_poll_seconds,
        )
        rt = Runtime(settings=settings, db=db, plumbing=plumbing, link=link, relay=relay)
        rt.consumers = list(consumers(rt)) if consumers else []
        app.state.runtime = rt
        link.start()
        relay.start()
        for c in rt.consumers:
            c.start()
        job_tasks = [
            asyncio.create_task(schedule(rt, job), name=f"job-{job.name}")
            for job in [*(jobs(rt) if jobs else []), housekeeping(rt)]
        ]
        try:
            with settled_heap():
                yield
        finally:
            for task in job_tasks:
                await cancel_and_wait(task)
            for c in rt.consumers:
                await c.stop()
            await relay.stop()
            await link.close()
            await db.dispose()

    # A trailing slash is a 404 problem, never a redirect: behind the gateway a redirect would
    # name the service's own address.
    app = FastAPI(title=title, description=description, version=version, lifespan=lifespan,
                  redirect_slashes=False)
    install_problem_handlers(app)
    app.add_middleware(AllowedMethods)
    app.add_middleware(RequestContextMiddleware, service=service)
    app.include_router(ops_router())
    app.include_router(dead_letter_router())
    app.include_router(admin_dead_letter_router(service))
    for r in routers:
        app.include_router(r)
    openapi.install(app)
    return app


def ops_router() -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="Liveness: the process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/readyz",
        summary="Readiness: 200 only when the database and NATS answer",
        responses={503: {"description": "database or NATS not reachable"}},
    )
    async def readyz(request: Request, rt: RuntimeDep) -> Response:
        checks: dict[str, str] = {}
        try:
            await asyncio.wait_for(rt.db.ping(), 2.0)
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"error: {type(exc).__name__}"
        try:
            await rt.link.ping(timeout=1)
            checks["nats"] = "ok"
        except Exception as exc:
            checks["nats"] = f"error: {type(exc).__name__}"
        if all(v == "ok" for v in checks.values()):
            return JSONResponse({"status": "ready", "checks": checks})
        resp = problem_response(
            request, status=503, title="Service Unavailable",
            detail=", ".join(f"{k}: {v}" for k, v in checks.items()),
        )
        return resp

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def metrics_endpoint(rt: RuntimeDep) -> Response:
        from kit import metrics

        metrics.OUTBOX_BACKLOG.labels(rt.settings.service_name).set(await rt.relay.backlog())
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


DEAD_LETTERS = CursorKind("ops.dead-letters", DeadLetterPosition)


def dead_letter_router() -> APIRouter:
    """``GET /ops/dead-letters``: events this service gave up on, newest first."""
    router = APIRouter(prefix="/ops", tags=["operations"])

    @router.get("/dead-letters", summary="Events that failed max_deliver times",
                responses=problems(422))
    async def dead_letters(
        request: Request, rt: RuntimeDep,
        after: Annotated[DeadLetterPosition | None, Depends(DEAD_LETTERS.query)],
        limit: LimitQuery = 50,
    ) -> dict[str, Any]:
        page = await newest(rt, after, limit)
        return {"items": page.items, "next_cursor": DEAD_LETTERS.encode(request, page.next)}

    return router


# Runtime and RuntimeDep live in kit.runtime; kept importable from here for existing services.
__all__ = ["Job", "Runtime", "RuntimeDep", "create_service_app", "dead_letter_router",
           "ops_router"]
