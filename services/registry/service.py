"""Use cases of the registry: the only place that commits. Every state change writes its event
to the outbox in the same transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.events import uuid7
from contracts.registry import ProviderApplied
from kit.db import Database
from kit.errors import Conflict
from kit.idempotency import Outcome, run_once
from kit.messaging import add_event
from services.registry import repository
from services.registry.models import Provider, tables
from services.registry.schemas import ProviderApplication, ProviderOut


def provider_out(p: Provider) -> ProviderOut:
    return ProviderOut.model_validate(p, from_attributes=True)


async def apply(db: Database, application: ProviderApplication, *, key: str | None) -> Outcome:
    async def work(s: AsyncSession) -> tuple[int, Any]:
        if await repository.provider_by_business_id(s, application.business_id):
            raise Conflict(
                f"a provider with business ID {application.business_id} has already applied",
                type="/problems/duplicate-business-id",
            )
        p = Provider(
            id=str(uuid7()),
            business_id=application.business_id,
            legal_name=application.legal_name,
            contact_email=str(application.contact_email),
            regions=sorted(set(application.regions)),
            created_at=datetime.now(UTC),
            version=1,
        )
        s.add(p)
        await s.flush()
        await add_event(
            s,
            tables,
            ProviderApplied(
                provider_id=p.id,
                business_id=p.business_id,
                legal_name=p.legal_name,
                regions=p.regions,
            ),
            resource=p.id,
        )
        return 201, provider_out(p).model_dump(mode="json")

    return await run_once(
        db, tables, scope="POST /providers", key=key,
        payload=application.model_dump(mode="json"), work=work,
    )
