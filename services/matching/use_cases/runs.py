"""Reads of a region's default-assignment runs: the list of runs, and one run's proposals with
their explanations (the runs themselves are made in ``use_cases/assignments.py``)."""

from __future__ import annotations

from contracts.principal import Principal
from kit.db import Database
from kit.errors import NotFound
from kit.pagination import Page, paginate
from services.matching import access, repository
from services.matching.domain.assignment import Status
from services.matching.models import VoucherView
from services.matching.schemas import (
    ProposalOut,
    ProposalPosition,
    RunOut,
    RunPosition,
    VoucherAssignmentOut,
)
from services.matching.use_cases.explain import explanation


async def list_runs(db: Database, principal: Principal, *, before: RunPosition | None,
                    limit: int) -> Page[RunOut, RunPosition]:
    """The admin's region's runs, newest first."""
    region = access.admin_region(principal)
    async with db.reader() as s:
        rows = await repository.runs_of(
            s, region, before=None if before is None else (before.created_at, before.run_id),
            limit=limit)
    items = [RunOut.model_validate(r, from_attributes=True) for r in rows]
    return paginate(items, limit, lambda r: RunPosition(created_at=r.created_at,
                                                        run_id=r.run_id))


def _status(name: str | None) -> Status:
    try:
        return Status[name or ""]
    except KeyError:
        return Status.no_candidates


async def proposals(db: Database, principal: Principal, run_id: str, *,
                    after: ProposalPosition | None, limit: int
                    ) -> Page[ProposalOut, ProposalPosition]:
    """One run's proposals, each with its explanation; for the admins of the run's region
    (anyone else: no such run)."""
    async with db.reader() as s:
        run = await repository.run(s, run_id)
        if run is None or not access.is_region_admin(principal, run.region):
            raise NotFound("no such assignment run")
        rows = await repository.proposals_page(
            s, run_id, after=None if after is None else after.voucher_id, limit=limit)
        page = rows[:limit]
        vouchers = {v.voucher_id: v for v in await repository.load_vouchers(
            s, [p.voucher_id for p in page])}
        overrides = await repository.overrides_in(s, [p.voucher_id for p in page if p.override])
        names = await repository.provider_names(
            s, sorted({p.provider_id for p in page if p.provider_id}))
        titles = await repository.offerings_by_id(
            s, sorted({p.offering_id for p in page if p.offering_id}))
    items: list[ProposalOut] = []
    for p in rows:
        status = _status(p.reason)
        v: VoucherView | None = vouchers.get(p.voucher_id)
        kept = overrides.get(p.voucher_id)
        offering = titles.get(p.offering_id) if p.offering_id else None
        items.append(ProposalOut(
            voucher_id=p.voucher_id, status=status.name, offering_id=p.offering_id,
            offering_title=offering.title if offering is not None else None,
            provider_id=p.provider_id,
            provider_name=names.get(p.provider_id) if p.provider_id else None,
            rank=p.rank, score=p.score, override=p.override,
            override_reason=kept.reason if kept is not None and p.override else None,
            explanation=explanation(status, p.rank),
            home_municipality=v.home_municipality if v is not None else None,
            holder_kind=v.holder_kind if v is not None else None))
    return paginate(items, limit, lambda p: ProposalPosition(voucher_id=p.voucher_id))


async def voucher_assignment(db: Database, principal: Principal,
                             voucher_id: str) -> VoucherAssignmentOut:
    """The voucher's latest default assignment: for its holder and the admins of its region;
    for anyone else, and when no run has had the voucher, there is none (404)."""
    async with db.reader() as s:
        access.visible_voucher(principal, await repository.voucher(s, voucher_id))
        found = await repository.latest_proposal(s, voucher_id)
        if found is None:
            raise NotFound("no default assignment for this voucher")
        p, run = found
        offering = await repository.offering(s, p.offering_id) if p.offering_id else None
        names = await repository.provider_names(s, [p.provider_id] if p.provider_id else [])
    status = _status(p.reason)
    return VoucherAssignmentOut(
        voucher_id=voucher_id, run_id=run.run_id, assigned_at=run.created_at,
        status=status.name, offering_id=p.offering_id,
        offering_title=offering.title if offering is not None else None,
        provider_id=p.provider_id,
        provider_name=names.get(p.provider_id) if p.provider_id else None, rank=p.rank,
        override=p.override, explanation=explanation(status, p.rank))
