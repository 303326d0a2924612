"""The voucher service app: ``uvicorn services.voucher.main:app``."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from kit.app import Job, Runtime, create_service_app
from services.voucher.api import budgets, claims, payments, reports, vouchers
from services.voucher.consumers import REGISTRY, consumers
from services.voucher.models import metadata, plumbing
from services.voucher.settings import Settings
from services.voucher.use_cases import books, lifecycle


def jobs(rt: Runtime) -> list[Job]:
    settings = rt.settings
    assert isinstance(settings, Settings)
    # idempotency keys, outbox, inbox and dead letters are pruned by kit's housekeeping job
    return [
        Job("voucher-deadlines", settings.lifecycle_interval_seconds,
            lambda rt: lifecycle.run_deadlines(rt.db)),
        Job("voucher-books-check", settings.books_check_interval_seconds,
            lambda rt: books.check(rt.db)),
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
