"""The matching service app: ``uvicorn services.matching.main:app``."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from kit.app import Job, Runtime, create_service_app
from services.matching.api import assignments, recommendations, statistics
from services.matching.consumers import REGISTRY, consumers
from services.matching.models import metadata, plumbing
from services.matching.settings import Settings
from services.matching.use_cases import assignments as assignment_runs
from services.matching.use_cases import statistics as publications


def jobs(rt: Runtime) -> list[Job]:
    settings = rt.settings
    assert isinstance(settings, Settings)
    # idempotency keys, outbox, inbox and dead letters are pruned by kit's housekeeping job
    out: list[Job] = []
    if settings.assignment_interval_seconds > 0:
        out.append(Job("default-assignment", settings.assignment_interval_seconds,
                       lambda rt: assignment_runs.scheduled(rt.db, settings, rt.extra)))
    if settings.statistics_interval_seconds > 0:
        out.append(Job("statistics-publication", settings.statistics_interval_seconds,
                       lambda rt: publications.publish(rt.db)))
    return out


def create_app(settings: Settings | None = None) -> FastAPI:
    return create_service_app(
        settings=settings or Settings(),
        jobs=jobs,
        metadata=metadata,
        plumbing=plumbing,
        migrations=str(Path(__file__).parent / "migrations"),
        routers=[REGISTRY.router(), recommendations.router, statistics.router,
                 assignments.router],
        consumers=consumers,
        title="Seteli matching",
        description="Recommendations, outcome statistics and default assignment. Matching "
        "proposes; the voucher service decides and records.",
    )


app = create_app()
