"""The registry service app: ``uvicorn services.registry.main:app``."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from kit.app import Job, Runtime, create_service_app
from services.registry import service
from services.registry.api import admin, catalogue, credentials, offerings, openapi, providers
from services.registry.consumers import consumers
from services.registry.models import metadata, tables
from services.registry.settings import Settings


def jobs(rt: Runtime) -> list[Job]:
    settings = rt.settings
    assert isinstance(settings, Settings)

    async def expire(rt: Runtime) -> int:
        return await service.expire_due(rt.db)

    return [Job("expire-accreditations", settings.expiry_interval_seconds, expire)]


def create_app(settings: Settings | None = None) -> FastAPI:
    app = create_service_app(
        settings=settings or Settings(),
        metadata=metadata,
        tables=tables,
        migrations=str(Path(__file__).parent / "migrations"),
        routers=[providers.router, offerings.router, catalogue.router, credentials.router,
                 admin.router],
        consumers=consumers,
        jobs=jobs,
        title="Seteli registry",
        description="Providers, per-region accreditation, offerings, the service-type "
        "catalogue and provider API keys: the source of truth for who may be chosen.",
    )
    openapi.install(app)
    return app


app = create_app()
