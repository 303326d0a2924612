"""The registry service app: ``uvicorn services.registry.main:app``."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from kit.app import create_service_app
from services.registry.api import providers
from services.registry.consumers import consumers
from services.registry.models import metadata, tables
from services.registry.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(
        settings=settings or Settings(),
        metadata=metadata,
        tables=tables,
        migrations=str(Path(__file__).parent / "migrations"),
        routers=[providers.router],
        consumers=consumers,
        title="Seteli registry",
        description="Providers, per-region accreditation, offerings and the service catalogue.",
    )


app = create_app()
