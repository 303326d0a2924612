"""Accreditation: a region admin's decisions, a provider applying in one more region, and the
expiry of accreditations past their ``valid_until``."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.principal import Principal, Role
from contracts.registry import ACCREDITATION_EVENTS
from kit import audit
from kit.db import Database
from kit.errors import NotFound, Unprocessable
from kit.idempotency import Once, run_once
from kit.outbox import add_event
from kit.versioning import IfMatch
from services.registry import access, problems, repository
from services.registry.domain.accreditation import (
    EVENT_OF,
    AccreditationState,
    Action,
    IllegalTransition,
    choosable,
    sets_valid_until,
    transition,
)
from services.registry.domain.calendar import has_expired
from services.registry.models import Accreditation, Provider, audit_log, plumbing
from services.registry.schemas import AccreditationOut, DecisionIn
from services.registry.use_cases.common import key_scope, now, today
from services.registry.use_cases.providers import announce_application, new_application

EXPIRY_JOB = Principal(sub="registry-expiry-job", role=Role.service)


async def take_action(
    s: AsyncSession, p: Provider, acc: Accreditation, action: Action, *,
    actor: Principal | None, reason: str, valid_until: date | None = None,
) -> None:
    """Move ``acc`` by ``action`` (409 if its state does not allow it), with the offerings'
    visibility, the audit entry and the event, in the caller's transaction."""
    before = AccreditationState(acc.state)
    try:
        after = transition(before, action)
    except IllegalTransition as exc:
        raise problems.IllegalTransition(str(exc)) from exc
    acc.state = after.value
    if sets_valid_until(action):
        acc.valid_until = valid_until
    acc.decided_at = now()
    acc.reason = reason
    acc.version += 1
    await s.flush()
    await repository.set_offerings_visibility(s, p.id, acc.region_code,
                                              choosable=choosable(after))
    await audit.record(
        s, audit_log, actor=actor, action=f"accreditation.{action.value}",
        subject_type="provider", subject_id=p.id, region=acc.region_code, reason=reason,
        details={"from": before.value, "to": after.value, "version": acc.version,
                 "valid_until": acc.valid_until.isoformat() if acc.valid_until else None},
    )
    event_cls = ACCREDITATION_EVENTS[EVENT_OF[action]]
    await add_event(s, plumbing, event_cls(
        provider_id=p.id, region=acc.region_code, state=acc.state,
        valid_until=acc.valid_until, reason=reason, version=acc.version,
        business_id=p.business_id, legal_name=p.legal_name,
    ), resource=p.id)


async def decide(
    db: Database, provider_id: str, region: str, body: DecisionIn, *, principal: Principal,
    if_match: IfMatch, key: str | None,
) -> Once[AccreditationOut]:
    access.ensure_admin_of(principal, region)

    async def record_decision(s: AsyncSession) -> AccreditationOut:
        p = await repository.provider(s, provider_id)
        acc = await repository.accreditation(s, provider_id, region, for_update=True)
        if p is None or acc is None:
            raise NotFound("this provider has not applied in this region")
        if_match.check(acc.version)
        await take_action(s, p, acc, body.decision, actor=principal, reason=body.reason,
                          valid_until=body.valid_until)
        return AccreditationOut.model_validate(acc)

    return await run_once(
        db, plumbing, scope=key_scope(principal, f"decide {provider_id} {region}"), key=key,
        payload=body.model_dump(mode="json") | {"if_match": if_match.header},
        change=record_decision,
        answer=AccreditationOut,
    )


async def apply_in_region(
    db: Database, provider_id: str, region: str, *, principal: Principal, key: str | None,
) -> Once[AccreditationOut]:
    """A provider applies in one more region, or again after rejection or expiry."""
    access.ensure_own_provider(principal, provider_id)

    async def record_application(s: AsyncSession) -> AccreditationOut:
        p = await repository.provider(s, provider_id)
        if p is None:
            raise NotFound("no such provider")
        if await repository.region(s, region) is None:
            raise Unprocessable.field("region", f"unknown region '{region}'")
        acc = await repository.accreditation(s, provider_id, region, for_update=True)
        if acc is None:
            acc = new_application(p, region)
            s.add(acc)
            await s.flush()
            await announce_application(s, p, acc, actor=principal, details={})
        else:
            await take_action(s, p, acc, Action.reapply, actor=principal,
                              reason="applied again")
        return AccreditationOut.model_validate(acc)

    return await run_once(db, plumbing, scope=key_scope(principal, f"apply {provider_id}"),
                          key=key, payload={"region": region}, change=record_application,
                          answer=AccreditationOut)


async def expire_due(db: Database, *, on: date | None = None, region: str | None = None,
                     actor: Principal | None = None) -> int:
    """Expire every accreditation whose ``valid_until`` has passed (in Finland), each with its
    audit entry and event, all in one transaction."""
    on = on or today()
    async with db.session() as s:
        due = await repository.due_for_expiry(s, on, region)
        for acc in due:
            assert has_expired(acc.valid_until, on)
            p = await repository.provider(s, acc.provider_id)
            assert p is not None
            await take_action(s, p, acc, Action.expire, actor=actor or EXPIRY_JOB,
                              reason=f"valid until {acc.valid_until} passed")
        await s.commit()
    return len(due)
