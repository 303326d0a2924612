"""Use cases of the registry: the only place that commits. Every state change writes its audit
entry and its event (outbox) in the same transaction, so a refused request leaves nothing."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.events import uuid7
from contracts.principal import Principal, Role
from contracts.registry import (
    ACCREDITATION_EVENTS,
    LocalizedText,
    OfferingEvent,
    OfferingPublished,
    OfferingUpdated,
    OfferingWithdrawn,
    PaymentMilestone,
    ProviderApplied,
    ProviderUpdated,
    ServiceTypeAdded,
)
from kit import audit
from kit.db import Database
from kit.errors import Conflict, FieldError, Forbidden, NotFound, Problem, Unprocessable
from kit.idempotency import Outcome, run_once
from kit.outbox import add_event
from services.registry import repository
from services.registry.domain.accreditation import (
    EVENT_OF,
    AccreditationState,
    Decision,
    IllegalDecision,
    decide,
)
from services.registry.domain.calendar import has_expired, local_date
from services.registry.domain.versioning import if_match_satisfied
from services.registry.models import (
    Accreditation,
    ApiKey,
    Offering,
    Provider,
    ServiceType,
    audit_log,
    tables,
)
from services.registry.schemas import (
    AccreditationOut,
    ApiKeyCreated,
    ApiKeyOut,
    DecisionIn,
    OfferingIn,
    OfferingOut,
    ProviderApplication,
    ProviderDetails,
    ProviderOut,
    ServiceTypeIn,
    ServiceTypeOut,
)


class PreconditionFailed(Problem):
    status, title, type = 412, "Precondition Failed", "/problems/version-mismatch"


def now() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    """Today in Finland: dates in the registry are Finnish calendar dates."""
    return local_date(now())


def _scope(principal: Principal | None, route: str) -> str:
    return f"{principal.sub if principal else 'anonymous'}:{route}"


def _check_version(if_match: str | None, version: int) -> None:
    if not if_match_satisfied(if_match, version):
        raise PreconditionFailed(
            f"the resource has changed (now version {version}); reload it and try again"
        )


# ------------------------------------------------------------------ providers


def accreditation_out(a: Accreditation) -> AccreditationOut:
    return AccreditationOut(
        region=a.region_code, state=a.state, valid_until=a.valid_until,
        decided_at=a.decided_at, reason=a.reason, version=a.version,
    )


def is_own_provider(viewer: Principal | None, provider_id: str) -> bool:
    return (viewer is not None and viewer.role is Role.provider
            and viewer.provider_id == provider_id)


def ensure_own_provider(principal: Principal, provider_id: str) -> None:
    """Provider staff act only on their own provider; for anyone else it does not exist."""
    if not is_own_provider(principal, provider_id):
        raise NotFound("no such provider")


def visible_accreditation(a: Accreditation, viewer: Principal | None, provider_id: str) -> bool:
    """Everyone sees approved accreditations; the provider itself sees all of its own; a
    region admin sees every accreditation in their region."""
    if a.state == AccreditationState.approved:
        return True
    if viewer is None:
        return False
    if is_own_provider(viewer, provider_id):
        return True
    return viewer.role is Role.region_admin and viewer.region == a.region_code


def can_see_provider(p: Provider, accs: list[Accreditation], viewer: Principal | None) -> bool:
    return any(visible_accreditation(a, viewer, p.id) for a in accs)


def provider_out(p: Provider, accs: list[Accreditation], viewer: Principal | None) -> ProviderOut:
    return ProviderOut(
        id=p.id, business_id=p.business_id, legal_name=p.legal_name,
        contact_name=p.contact_name, contact_email=p.contact_email, phone=p.phone,
        website=p.website, description=p.description, created_at=p.created_at,
        version=p.version,
        accreditations=[accreditation_out(a) for a in accs
                        if visible_accreditation(a, viewer, p.id)],
    )


def _duplicate(business_id: str) -> Conflict:
    return Conflict(f"a provider with business ID {business_id} has already applied",
                    type="/problems/duplicate-business-id")


async def apply(
    db: Database, application: ProviderApplication, *, principal: Principal | None,
    key: str | None,
) -> Outcome:
    async def work(s: AsyncSession) -> tuple[int, Any]:
        regions = sorted(set(application.regions))
        errors = [FieldError(field=f"regions.{i}", message=f"unknown region '{code}'")
                  for i, code in enumerate(application.regions)
                  if await repository.region(s, code) is None]
        if errors:
            raise Unprocessable("; ".join(f"{e.field}: {e.message}" for e in errors),
                                errors=errors)
        if await repository.provider_by_business_id(s, application.business_id):
            raise _duplicate(application.business_id)
        t = now()
        p = Provider(
            id=str(uuid7()), business_id=application.business_id,
            legal_name=application.legal_name, contact_name=application.contact_name,
            contact_email=str(application.contact_email), phone=application.phone,
            website=str(application.website) if application.website else None,
            description=application.description.model_dump(), created_at=t, version=1,
        )
        s.add(p)
        try:
            await s.flush()  # the provider row first: accreditations refer to it
        except IntegrityError as exc:
            # Another application with this business ID committed between our check and
            # our insert (PostgreSQL, concurrent requests): the same answer as above.
            raise _duplicate(application.business_id) from exc
        accs = [Accreditation(provider_id=p.id, region_code=r, state="applied",
                              valid_until=None, decided_at=t, reason="", version=1)
                for r in regions]
        s.add_all(accs)
        await s.flush()
        for r in regions:
            await audit.record(s, audit_log, actor=principal, action="provider.applied",
                               subject_type="provider", subject_id=p.id, region=r,
                               reason="application received",
                               details={"business_id": p.business_id})
        await add_event(s, tables, ProviderApplied(
            provider_id=p.id, business_id=p.business_id, legal_name=p.legal_name,
            regions=regions), resource=p.id)
        # The applicant sees its whole application in the answer.
        viewer = Principal(sub="applicant", role=Role.provider, provider_id=p.id)
        return 201, provider_out(p, accs, viewer).model_dump(mode="json")

    return await run_once(db, tables, scope=_scope(principal, "POST /providers"), key=key,
                          payload=application.model_dump(mode="json"), work=work)


async def get_provider(db: Database, provider_id: str, viewer: Principal | None) -> ProviderOut:
    async with db.reader() as s:
        p = await repository.provider(s, provider_id)
        accs = await repository.accreditations(s, [provider_id]) if p else []
    if p is None or not can_see_provider(p, accs, viewer):
        raise NotFound("no such provider")
    return provider_out(p, accs, viewer)


async def update_provider(
    db: Database, provider_id: str, body: ProviderDetails, *, principal: Principal,
    if_match: str | None,
) -> ProviderOut:
    """The provider changes its own details. The business ID never changes (a new business ID
    is a new provider); a new name reaches the provider's offerings in the same transaction."""
    ensure_own_provider(principal, provider_id)
    async with db.session() as s:
        p = await repository.provider(s, provider_id, for_update=True)
        if p is None:
            raise NotFound("no such provider")
        _check_version(if_match, p.version)
        renamed = p.legal_name != body.legal_name
        changed = sorted(
            name for name, value in (
                ("legal_name", body.legal_name), ("contact_name", body.contact_name),
                ("contact_email", str(body.contact_email)), ("phone", body.phone),
                ("website", str(body.website) if body.website else None),
                ("description", body.description.model_dump()))
            if getattr(p, name) != value)
        if changed:
            old_name = p.legal_name
            p.legal_name = body.legal_name
            p.contact_name = body.contact_name
            p.contact_email = str(body.contact_email)
            p.phone = body.phone
            p.website = str(body.website) if body.website else None
            p.description = body.description.model_dump()
            p.version += 1
            await s.flush()
            if renamed:
                for o in await repository.offerings_of(s, provider_id):
                    o.provider_name = p.legal_name
                    o.search_text = search_text(o.title, o.description, p.legal_name)
                await s.flush()
            await audit.record(
                s, audit_log, actor=principal, action="provider.updated",
                subject_type="provider", subject_id=p.id, reason="details changed by provider",
                details={"fields": changed} | ({"legal_name_before": old_name} if renamed else {}))
            await add_event(s, tables, ProviderUpdated(
                provider_id=p.id, business_id=p.business_id, legal_name=p.legal_name,
                version=p.version), resource=p.id)
        accs = await repository.accreditations(s, [provider_id])
        out = provider_out(p, accs, principal)
        await s.commit()
    return out


async def decide_accreditation(
    db: Database, provider_id: str, region: str, body: DecisionIn, *, principal: Principal,
    if_match: str | None, key: str | None,
) -> Outcome:
    if principal.role is not Role.region_admin or principal.region != region:
        raise Forbidden("only an admin of this region decides its accreditations")

    async def work(s: AsyncSession) -> tuple[int, Any]:
        p = await repository.provider(s, provider_id)
        acc = await repository.accreditation(s, provider_id, region, for_update=True)
        if p is None or acc is None:
            raise NotFound("this provider has not applied in this region")
        _check_version(if_match, acc.version)
        await _transition(s, p, acc, Decision(body.decision), actor=principal,
                          reason=body.reason, valid_until=body.valid_until)
        return 200, accreditation_out(acc).model_dump(mode="json")

    return await run_once(
        db, tables, scope=_scope(principal, f"decide {provider_id} {region}"), key=key,
        payload=body.model_dump(mode="json") | {"if_match": if_match}, work=work,
    )


async def _transition(
    s: AsyncSession, p: Provider, acc: Accreditation, decision: Decision, *,
    actor: Principal | None, reason: str, valid_until: date | None = None,
) -> None:
    before = AccreditationState(acc.state)
    try:
        after = decide(before, decision)
    except IllegalDecision as exc:
        raise Conflict(str(exc), type="/problems/illegal-transition") from exc
    acc.state = after.value
    if decision in (Decision.approve, Decision.renew):
        acc.valid_until = valid_until
    acc.decided_at = now()
    acc.reason = reason
    acc.version += 1
    await s.flush()
    await repository.set_offerings_visibility(
        s, p.id, acc.region_code, approved=after is AccreditationState.approved)
    await audit.record(
        s, audit_log, actor=actor, action=f"accreditation.{decision.value}",
        subject_type="provider", subject_id=p.id, region=acc.region_code, reason=reason,
        details={"from": before.value, "to": after.value, "version": acc.version,
                 "valid_until": acc.valid_until.isoformat() if acc.valid_until else None},
    )
    event_cls = ACCREDITATION_EVENTS[EVENT_OF[decision]]
    await add_event(s, tables, event_cls(
        provider_id=p.id, region=acc.region_code, state=acc.state,
        valid_until=acc.valid_until, reason=reason, version=acc.version,
        business_id=p.business_id, legal_name=p.legal_name,
    ), resource=p.id)


async def apply_in_region(
    db: Database, provider_id: str, region: str, *, principal: Principal, key: str | None,
) -> Outcome:
    """A provider applies in one more region, or again after rejection or expiry."""
    ensure_own_provider(principal, provider_id)

    async def work(s: AsyncSession) -> tuple[int, Any]:
        p = await repository.provider(s, provider_id)
        if p is None:
            raise NotFound("no such provider")
        if await repository.region(s, region) is None:
            raise Unprocessable.field("region", f"unknown region '{region}'")
        acc = await repository.accreditation(s, provider_id, region, for_update=True)
        if acc is None:
            acc = Accreditation(provider_id=p.id, region_code=region, state="applied",
                                valid_until=None, decided_at=now(), reason="", version=1)
            s.add(acc)
            await s.flush()
            await audit.record(s, audit_log, actor=principal, action="provider.applied",
                               subject_type="provider", subject_id=p.id, region=region,
                               reason="application received", details={})
            await add_event(s, tables, ProviderApplied(
                provider_id=p.id, business_id=p.business_id, legal_name=p.legal_name,
                regions=[region]), resource=p.id)
        else:
            await _transition(s, p, acc, Decision.reapply, actor=principal,
                              reason="applied again")
        return 201, accreditation_out(acc).model_dump(mode="json")

    return await run_once(db, tables, scope=_scope(principal, f"apply {provider_id}"), key=key,
                          payload={"region": region}, work=work)


async def expire_due(db: Database, *, on: date | None = None, region: str | None = None,
                     actor: Principal | None = None) -> int:
    """Expire every approved or suspended accreditation whose ``valid_until`` has passed
    (in Finland), each with its audit entry and event, all in one transaction."""
    on = on or today()
    system = actor or Principal(sub="registry-expiry-job", role=Role.service)
    async with db.session() as s:
        due = await repository.due_for_expiry(s, on, region)
        for acc in due:
            assert has_expired(acc.valid_until, on)
            p = await repository.provider(s, acc.provider_id)
            assert p is not None
            await _transition(s, p, acc, Decision.expire, actor=system,
                              reason=f"valid until {acc.valid_until} passed")
        await s.commit()
    return len(due)


# ------------------------------------------------------------------ catalogue


def service_type_out(t: ServiceType) -> ServiceTypeOut:
    return ServiceTypeOut.model_validate(
        {"code": t.code, "name": t.name, "payment_scheme": t.payment_scheme}
    )


async def add_service_type(db: Database, body: ServiceTypeIn, *, principal: Principal,
                           key: str | None) -> Outcome:
    async def work(s: AsyncSession) -> tuple[int, Any]:
        if await repository.service_type(s, body.code):
            raise Conflict(f"service type '{body.code}' exists already",
                           type="/problems/duplicate-service-type")
        scheme = [m.model_dump() for m in body.payment_scheme]
        t = ServiceType(code=body.code, name=body.name.model_dump(), payment_scheme=scheme,
                        created_at=now())
        s.add(t)
        try:
            await s.flush()
        except IntegrityError as exc:
            raise Conflict(f"service type '{body.code}' exists already",
                           type="/problems/duplicate-service-type") from exc
        await audit.record(s, audit_log, actor=principal, action="service_type.added",
                           subject_type="service_type", subject_id=t.code,
                           region=principal.region, reason="catalogue extended",
                           details={"payment_scheme": scheme})
        await add_event(s, tables, ServiceTypeAdded(
            code=t.code, names=LocalizedText(**t.name),
            payment_scheme=[PaymentMilestone(**m) for m in scheme]), resource=t.code)
        return 201, service_type_out(t).model_dump(mode="json")

    return await run_once(db, tables, scope=_scope(principal, "POST /service-types"), key=key,
                          payload=body.model_dump(mode="json"), work=work)


# ------------------------------------------------------------------ offerings


def offering_out(o: Offering) -> OfferingOut:
    return OfferingOut(
        id=o.id, provider_id=o.provider_id, provider_name=o.provider_name,
        region=o.region_code, service_type=o.service_type, title=o.title,
        description=o.description, municipalities=o.municipalities, remote=o.remote,
        languages=o.languages, unit_price_cents=o.unit_price_cents, capacity=o.capacity,
        next_start=o.next_start, duration_days=o.duration_days, status=o.status,
        visible=o.visible, version=o.version, updated_at=o.updated_at,
    )


def search_text(title: dict[str, Any], description: dict[str, Any], provider_name: str) -> str:
    """What free-text search looks in: the provider's name, the title and the description in
    every language, lower-cased."""
    parts = [provider_name, *(v for v in title.values() if v),
             *(v for v in description.values() if v)]
    return " ".join(parts).lower()


async def _validate_offering(s: AsyncSession, body: OfferingIn) -> None:
    errors: list[FieldError] = []
    if await repository.region(s, body.region) is None:
        errors.append(FieldError(field="region", message=f"unknown region '{body.region}'"))
    if await repository.service_type(s, body.service_type) is None:
        errors.append(FieldError(field="service_type",
                                 message=f"unknown service type '{body.service_type}'"))
    regions_of = await repository.municipality_regions(s, body.municipalities)
    for i, code in enumerate(body.municipalities):
        if code not in regions_of:
            errors.append(FieldError(field=f"municipalities.{i}",
                                     message=f"unknown municipality code '{code}'"))
        elif regions_of[code] != body.region:
            errors.append(FieldError(
                field=f"municipalities.{i}",
                message=f"municipality '{code}' is not in region '{body.region}'"))
    if errors:
        raise Unprocessable("; ".join(f"{e.field}: {e.message}" for e in errors), errors=errors)


def _offering_event(cls: type[OfferingEvent], o: Offering) -> OfferingEvent:
    return cls(
        offering_id=o.id, provider_id=o.provider_id, region=o.region_code,
        service_type=o.service_type, title=LocalizedText(**o.title),
        description=LocalizedText(**o.description),
        municipalities=o.municipalities, remote=o.remote, languages=o.languages,
        unit_price_cents=o.unit_price_cents, capacity=o.capacity, next_start=o.next_start,
        duration_days=o.duration_days, status=o.status, version=o.version,
    )


def _require_provider(principal: Principal) -> str:
    if principal.role is not Role.provider or not principal.provider_id:
        raise Forbidden("only a provider's staff or systems manage its offerings")
    return principal.provider_id


async def publish_offering(db: Database, body: OfferingIn, *, principal: Principal,
                           key: str | None) -> Outcome:
    provider_id = _require_provider(principal)

    async def work(s: AsyncSession) -> tuple[int, Any]:
        await _validate_offering(s, body)
        p = await repository.provider(s, provider_id)
        # Shared lock: a suspension decided meanwhile waits for this offering to exist, and
        # then hides it with the provider's other offerings.
        acc = await repository.accreditation(s, provider_id, body.region, for_share=True)
        if p is None or acc is None or acc.state != AccreditationState.approved:
            raise Conflict(f"the provider is not accredited in region '{body.region}'",
                           type="/problems/not-accredited")
        t = now()
        title, description = body.title.model_dump(), body.description.model_dump()
        o = Offering(
            id=str(uuid7()), provider_id=provider_id, region_code=body.region,
            service_type=body.service_type, title=title, description=description,
            municipalities=sorted(set(body.municipalities)),
            remote=body.remote, languages=body.languages,
            unit_price_cents=body.unit_price_cents, capacity=body.capacity,
            next_start=body.next_start, duration_days=body.duration_days, status="published",
            visible=True, provider_name=p.legal_name,
            search_text=search_text(title, description, p.legal_name), created_at=t,
            updated_at=t, version=1,
        )
        s.add(o)
        await s.flush()
        await repository.replace_offering_facets(s, o)
        await add_event(s, tables, _offering_event(OfferingPublished, o), resource=o.id)
        return 201, offering_out(o).model_dump(mode="json")

    return await run_once(db, tables, scope=_scope(principal, "POST /offerings"), key=key,
                          payload=body.model_dump(mode="json"), work=work)


async def _own_offering(s: AsyncSession, offering_id: str, provider_id: str) -> Offering:
    o = await repository.offering(s, offering_id, for_update=True)
    if o is None or o.provider_id != provider_id:
        raise NotFound("no such offering")
    return o


async def update_offering(db: Database, offering_id: str, body: OfferingIn, *,
                          principal: Principal, if_match: str | None) -> OfferingOut:
    provider_id = _require_provider(principal)
    async with db.session() as s:
        o = await _own_offering(s, offering_id, provider_id)
        _check_version(if_match, o.version)
        if o.status != "published":
            raise Conflict("a withdrawn offering cannot be changed; publish a new one",
                           type="/problems/offering-withdrawn")
        if body.region != o.region_code:
            raise Unprocessable.field("region", "an offering cannot move to another region; "
                                      "withdraw it and publish a new one there")
        await _validate_offering(s, body)
        o.service_type = body.service_type
        o.title = body.title.model_dump()
        o.description = body.description.model_dump()
        o.municipalities = sorted(set(body.municipalities))
        o.remote = body.remote
        o.languages = body.languages
        o.unit_price_cents = body.unit_price_cents
        o.capacity = body.capacity
        o.next_start = body.next_start
        o.duration_days = body.duration_days
        o.search_text = search_text(o.title, o.description, o.provider_name)
        o.updated_at = now()
        o.version += 1
        await s.flush()
        await repository.replace_offering_facets(s, o)
        await add_event(s, tables, _offering_event(OfferingUpdated, o), resource=o.id)
        out = offering_out(o)
        await s.commit()
    return out


async def withdraw_offering(db: Database, offering_id: str, *, principal: Principal,
                            if_match: str | None) -> OfferingOut:
    provider_id = _require_provider(principal)
    async with db.session() as s:
        o = await _own_offering(s, offering_id, provider_id)
        _check_version(if_match, o.version)
        if o.status == "withdrawn":
            raise Conflict("the offering is already withdrawn",
                           type="/problems/offering-withdrawn")
        o.status = "withdrawn"
        o.visible = False
        o.updated_at = now()
        o.version += 1
        await s.flush()
        await add_event(s, tables, _offering_event(OfferingWithdrawn, o), resource=o.id)
        out = offering_out(o)
        await s.commit()
    return out


def can_see_offering(o: Offering, viewer: Principal | None) -> bool:
    """The public sees visible offerings; the provider all of its own; a region admin every
    offering in the region."""
    if o.visible or is_own_provider(viewer, o.provider_id):
        return True
    return (viewer is not None and viewer.role is Role.region_admin
            and viewer.region == o.region_code)


async def get_offering(db: Database, offering_id: str, viewer: Principal | None) -> OfferingOut:
    async with db.reader() as s:
        o = await repository.offering(s, offering_id)
    if o is None or not can_see_offering(o, viewer):
        raise NotFound("no such offering")
    return offering_out(o)


@dataclass(frozen=True)
class SearchScope:
    """Which offerings a search may return beyond the public ones."""

    provider_id: str | None
    region: str | None
    everything: bool


def search_scope(viewer: Principal | None, *, visibility: str, provider_id: str | None,
                 region: str | None) -> SearchScope:
    """``visibility=all`` (hidden and withdrawn offerings too) is for the provider's own staff,
    over its own offerings, and for a region admin, over the region's offerings."""
    if visibility == "public":
        return SearchScope(provider_id, region, everything=False)
    if viewer is not None and viewer.role is Role.provider and viewer.provider_id:
        if provider_id not in (None, viewer.provider_id):
            raise Forbidden("visibility=all covers only your own offerings")
        return SearchScope(viewer.provider_id, region, everything=True)
    if viewer is not None and viewer.role is Role.region_admin and viewer.region:
        if region not in (None, viewer.region):
            raise Forbidden("visibility=all covers only your own region")
        return SearchScope(provider_id, viewer.region, everything=True)
    raise Forbidden("visibility=all is for a provider's staff and region admins")


# ------------------------------------------------------------------ API keys

KEY_PREFIX = "stl_"
MAX_KEY_LENGTH = 200


def hash_key(secret: str, key: str) -> str:
    return hmac.new(secret.encode(), key.encode(), hashlib.sha256).hexdigest()


def api_key_out(k: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(id=k.id, name=k.name, prefix=k.prefix, created_at=k.created_at,
                     revoked_at=k.revoked_at)


async def create_api_key(db: Database, provider_id: str, name: str, *, principal: Principal,
                         secret: str, key: str | None) -> Outcome:
    ensure_own_provider(principal, provider_id)
    created: dict[str, str] = {}

    async def work(s: AsyncSession) -> tuple[int, Any]:
        if await repository.provider(s, provider_id) is None:
            raise NotFound("no such provider")
        prefix = secrets.token_hex(4)
        while await repository.api_key_by_prefix(s, prefix) is not None:
            prefix = secrets.token_hex(4)  # 32 bits: rare, but prefixes are unique
        plain = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
        k = ApiKey(id=str(uuid7()), provider_id=provider_id, name=name, prefix=prefix,
                   key_hash=hash_key(secret, plain), created_at=now(),
                   created_by=principal.sub, revoked_at=None)
        s.add(k)
        await s.flush()
        await audit.record(s, audit_log, actor=principal, action="api_key.created",
                           subject_type="provider", subject_id=provider_id,
                           reason=f"key '{name}'", details={"prefix": prefix, "key_id": k.id})
        created["key"] = plain
        # Stored for an idempotent retry without the secret: a lost first answer means the
        # key is revoked and a new one made, never that the secret is kept.
        return 201, ApiKeyCreated(**api_key_out(k).model_dump(), key="").model_dump(mode="json")

    outcome = await run_once(db, tables, scope=_scope(principal, f"POST api-keys {provider_id}"),
                             key=key, payload={"name": name}, work=work)
    if not outcome.replayed:
        outcome = Outcome(outcome.status_code, {**outcome.body, "key": created["key"]})
    return outcome


async def list_api_keys(db: Database, provider_id: str, *, principal: Principal
                        ) -> list[ApiKeyOut]:
    ensure_own_provider(principal, provider_id)
    async with db.reader() as s:
        return [api_key_out(k) for k in await repository.api_keys(s, provider_id)]


async def revoke_api_key(db: Database, provider_id: str, key_id: str, *,
                         principal: Principal) -> ApiKeyOut:
    ensure_own_provider(principal, provider_id)
    async with db.session() as s:
        k = await repository.api_key(s, key_id, for_update=True)
        if k is None or k.provider_id != provider_id:
            raise NotFound("no such API key")
        if k.revoked_at is None:
            k.revoked_at = now()
            await audit.record(s, audit_log, actor=principal, action="api_key.revoked",
                               subject_type="provider", subject_id=provider_id,
                               reason=f"key '{k.name}'",
                               details={"prefix": k.prefix, "key_id": k.id})
        out = api_key_out(k)
        await s.commit()
    return out


_DUMMY_HASH = hash_key("dummy", "dummy")


def key_prefix(plain: str) -> str | None:
    """The visible prefix of a key shaped ``stl_<8 hex>_<secret>``, or None."""
    if len(plain) > MAX_KEY_LENGTH or not plain.startswith(KEY_PREFIX):
        return None
    prefix, sep, rest = plain[len(KEY_PREFIX):].partition("_")
    if not sep or not rest or len(prefix) != 8:
        return None
    return prefix


async def verify_api_key(db: Database, plain: str, *, secret: str) -> ApiKey | None:
    """The key's record if ``plain`` is a live key, else None. The answer and the work do not
    tell apart an unknown prefix, a wrong secret or a revoked key: the keyed hash is always
    computed and compared in constant time (against a dummy when the prefix is unknown)."""
    prefix = key_prefix(plain)
    async with db.reader() as s:
        k = await repository.api_key_by_prefix(s, prefix or "-")
    candidate = hash_key(secret, plain[:MAX_KEY_LENGTH])
    ok = hmac.compare_digest(candidate, k.key_hash if k is not None else _DUMMY_HASH)
    if k is None or not ok or k.revoked_at is not None:
        return None
    return k
