"""The voucher service app: ``uvicorn services.voucher.main:app``."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from kit.app import create_service_app
from services.voucher.consumers import REGISTRY, consumers
from services.voucher.models import metadata, plumbing
from services.voucher.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(
        settings=settings or Settings(),
        metadata=metadata,
        plumbing=plumbing,
        migrations=str(Path(__file__).parent / "migrations"),
        routers=[REGISTRY.router()],
        consumers=consumers,
        title="Seteli voucher",
        description="Budgets, vouchers, choices, claims and payments.",
    )


app = create_app()
