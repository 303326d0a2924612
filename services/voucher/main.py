"""The voucher service app: ``uvicorn services.voucher.main:app``."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI

from kit import idempotency
from kit.app import Job, Runtime, create_service_app
from services.voucher.api import budgets, claims, payments, reports, vouchers
from services.voucher.consumers import REGISTRY, consumers
from services.voucher.models import metadata, plumbing
from services.voucher.settings import Settings
from services.voucher.use_cases import lifecycle


def jobs(rt: Runtime) -> list[Job]:
    settings = rt.settings
    assert isinstance(settings, Settings)
    retention = timedelta(hours=settings.idempotency_retention_hours)
    return [
        Job("voucher-deadlines", settings.lifecycle_interval_seconds,
            lambda rt: lifecycle.run_deadlines(rt.db)),
        Job("idempotency-purge", 3600.0,
            lambda rt: idempotency.purge(rt.db, rt.plumbing, older_than=retention)),
    ]


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(
        settings=settings or Settings(),
        jobs=jobs,
        metadata=metadata,
        plumbing=plumbing,
        migrations=str(Path(__file__).parent / "migrations"),
        routers=[REGISTRY.router(), budgets.router, vouchers.router, claims.router,
                 payments.router, reports.router],
        consumers=consumers,
        title="Seteli voucher",
        description="Budgets, vouchers, choices, claims and payments.",
    )


app = create_app()
