"""The registry service app: ``uvicorn services.registry.main:app``."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from kit.app import Job, Runtime, create_service_app
from services.registry.api import (
    admin,
    catalogue,
    credentials,
    offering_imports,
    offerings,
    providers,
)
from services.registry.consumers import consumers
from services.registry.models import metadata, plumbing
from services.registry.settings import Settings
from services.registry.use_cases.accreditation import expire_due


def jobs(rt: Runtime) -> list[Job]:
    settings = rt.settings
    assert isinstance(settings, Settings)

    async def expire(rt: Runtime) -> int:
        return await expire_due(rt.db)

    return [Job("expire-accreditations", settings.expiry_interval_seconds, expire)]


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(
        settings=settings or Settings(),
        metadata=metadata,
        plumbing=plumbing,
        migrations=str(Path(__file__).parent / "migrations"),
        routers=[providers.router, offering_imports.router, offerings.router, catalogue.router,
                 credentials.router, admin.router],
        consumers=consumers,
        jobs=jobs,
        title="Seteli registry",
        description="Providers, per-region accreditation, offerings, the service-type "
        "catalogue and provider API keys: the source of truth for who may be chosen.",
    )


app = create_app()
