"""Providers: applying, the public register, one provider, changing its details."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.events import uuid7
from contracts.principal import Principal
from contracts.registry import ProviderApplied, ProviderUpdated
from kit import audit
from kit.db import Database
from kit.errors import FieldError, NotFound, Unprocessable
from kit.idempotency import Once, run_once
from kit.outbox import add_event
from kit.pagination import Page, paginate
from kit.versioning import IfMatch
from services.registry import access, repository, search_index
from services.registry.domain.accreditation import AccreditationState
from services.registry.models import Accreditation, Provider, audit_log, plumbing
from services.registry.problems import DuplicateBusinessId
from services.registry.schemas import (
    AccreditationOut,
    ProviderApplication,
    ProviderDetails,
    ProviderOut,
    ProviderPosition,
)
from services.registry.use_cases.common import key_scope, now

APPLIED = AccreditationState.applied


def shown(p: Provider, accreditations: list[Accreditation]) -> ProviderOut:
    """The provider with the accreditations given (already filtered by what the caller sees)."""
    return ProviderOut.model_validate(p).model_copy(update={
        "accreditations": [AccreditationOut.model_validate(a) for a in accreditations]})


def details(body: ProviderDetails) -> dict[str, object]:
    """The provider's columns as the body gives them."""
    return body.model_dump(mode="json", include=set(ProviderDetails.model_fields))


async def announce_application(s: AsyncSession, p: Provider, acc: Accreditation, *,
                               actor: Principal | None, details: dict[str, object]) -> None:
    """Audit entry and ``provider.applied`` for one new application in one region."""
    await audit.record(s, audit_log, actor=actor, action="provider.applied",
                       subject_type="provider", subject_id=p.id, region=acc.region_code,
                       reason="application received", details=details)
    await add_event(s, plumbing, ProviderApplied(
        provider_id=p.id, business_id=p.business_id, legal_name=p.legal_name,
        region=acc.region_code, state=acc.state, version=acc.version,
        reason="application received", regions=[acc.region_code]), resource=p.id)


def new_application(p: Provider, region: str) -> Accreditation:
    return Accreditation(provider_id=p.id, region_code=region, state=APPLIED.value,
                         valid_until=None, decided_at=now(), reason="", version=1)


async def submit_application(db: Database, application: ProviderApplication, *,
                principal: Principal | None, key: str | None) -> Once[ProviderOut]:
    """A new provider applies in one or more regions: one ``provider.applied`` per region."""
    async def create_provider(s: AsyncSession) -> ProviderOut:
        errors = [FieldError(field=f"regions.{i}", message=f"unknown region '{code}'")
                  for i, code in enumerate(application.regions)
                  if await repository.region(s, code) is None]
        if errors:
            raise Unprocessable("; ".join(f"{e.field}: {e.message}" for e in errors),
                                errors=errors)
        if await repository.provider_by_business_id(s, application.business_id):
            raise DuplicateBusinessId(application.business_id)
        p = Provider(id=str(uuid7()), business_id=application.business_id,
                     created_at=now(), version=1, **details(application))
        s.add(p)
        try:
            await s.flush()  # the provider row first: accreditations refer to it
        except IntegrityError as exc:
            # Another application with this business ID committed between our check and
            # our insert (PostgreSQL, concurrent requests): the same answer as above.
            raise DuplicateBusinessId(application.business_id) from exc
        accs = [new_application(p, r) for r in sorted(set(application.regions))]
        s.add_all(accs)
        await s.flush()
        for acc in accs:
            await announce_application(s, p, acc, actor=principal,
                                       details={"business_id": p.business_id})
        return shown(p, accs)  # the applicant sees its whole application

    return await run_once(db, plumbing, scope=key_scope(principal, "POST /providers"), key=key,
                          payload=application.model_dump(mode="json"), change=create_provider,
                          answer=ProviderOut)


async def get_provider(db: Database, provider_id: str, viewer: Principal | None) -> ProviderOut:
    async with db.reader() as s:
        p = await repository.provider(s, provider_id)
        accs = access.visible_accreditations(
            viewer, await repository.accreditations(s, [provider_id]) if p else [])
    if p is None or not accs:
        raise NotFound("no such provider")
    return shown(p, accs)


async def list_providers(
    db: Database, viewer: Principal | None, *, region: str | None,
    states: list[AccreditationState] | None, after: ProviderPosition | None, limit: int,
) -> Page[ProviderOut, ProviderPosition]:
    scope = access.provider_list_scope(viewer, region=region, states=states)
    async with db.reader() as s:
        rows = await repository.providers_page(
            s, after=after.after if after else None, limit=limit, region=scope.region,
            states=scope.states)
        page = paginate(rows, limit, lambda p: ProviderPosition(after=p.id))
        accs = await repository.accreditations(s, [p.id for p in page.items])
    by_provider: dict[str, list[Accreditation]] = {}
    for a in access.visible_accreditations(viewer, accs):
        by_provider.setdefault(a.provider_id, []).append(a)
    return Page([shown(p, by_provider.get(p.id, [])) for p in page.items], page.next)


async def update_provider(db: Database, provider_id: str, body: ProviderDetails, *,
                          principal: Principal, if_match: IfMatch) -> ProviderOut:
    """The provider changes its own details. The business ID never changes (a new business ID
    is a new provider); a new name reaches the provider's offerings in the same transaction."""
    access.ensure_own_provider(principal, provider_id)
    async with db.session() as s:
        p = await repository.provider(s, provider_id, for_update=True)
        if p is None:
            raise NotFound("no such provider")
        if_match.check(p.version)
        wanted = details(body)
        changed = sorted(name for name, value in wanted.items() if getattr(p, name) != value)
        if changed:
            old_name = p.legal_name
            for name in changed:
                setattr(p, name, wanted[name])
            p.version += 1
            await s.flush()
            renamed = old_name != p.legal_name
            if renamed:
                renamed_offerings = await repository.offerings_of(s, provider_id)
                for o in renamed_offerings:
                    o.provider_name = p.legal_name
                await s.flush()
                await search_index.index(s, renamed_offerings)
            await audit.record(
                s, audit_log, actor=principal, action="provider.updated",
                subject_type="provider", subject_id=p.id, reason="details changed by provider",
                details={"fields": changed} | ({"legal_name_before": old_name} if renamed else {}))
            await add_event(s, plumbing, ProviderUpdated(
                provider_id=p.id, business_id=p.business_id, legal_name=p.legal_name,
                version=p.version), resource=p.id)
        out = shown(p, await repository.accreditations(s, [provider_id]))
        await s.commit()
    return out
