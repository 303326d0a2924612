"""The matching service app: ``uvicorn services.matching.main:app``."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from kit.app import create_service_app
from services.matching.consumers import REGISTRY, consumers
from services.matching.models import metadata, plumbing
from services.matching.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(
        settings=settings or Settings(),
        metadata=metadata,
        plumbing=plumbing,
        migrations=str(Path(__file__).parent / "migrations"),
        routers=[REGISTRY.router()],
        consumers=consumers,
        title="Seteli matching",
        description="Recommendations, outcome statistics and default assignment.",
    )


app = create_app()
