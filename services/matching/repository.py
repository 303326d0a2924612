"""Queries of the matching service. Flushes, never commits.

Read models change only in the consumers' transactions; each such change names the region it
touched (:func:`changed`), and when the transaction commits the region's generation grows, in
this process and in the ``region_generation`` table (for the other replicas), so that the
in-memory index of offerings (use_cases/index.py) rebuilds only what changed."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from kit.db import dialect_insert
from services.matching.models import (
    AccreditationView,
    AssignmentOverride,
    AssignmentProposal,
    AssignmentRun,
    OfferingView,
    ProviderView,
    RatingView,
    RegionGeneration,
    StatisticsPublication,
    VoucherView,
    metadata,
    plumbing,
)

HOLDS_PLACE = ("chosen", "started")

# region -> generation: grows when a committed transaction changed the region's read model.
GENERATIONS: defaultdict[str, int] = defaultdict(int)
_CHANGED = "matching_changed_regions"


def changed(s: AsyncSession, region: str, service_type: str | None) -> None:
    """Note that this transaction changes the read model of ``region``."""
    s.info.setdefault(_CHANGED, set()).add(region)


@sa_event.listens_for(Session, "before_commit")
def _count_generations(session: Session) -> None:
    """The stored generation of each changed region grows in the same transaction, for the
    other replicas (in region order: two transactions never wait for each other in a ring)."""
    regions = session.info.get(_CHANGED)
    if not regions:
        return
    for region in sorted(regions):
        stmt = dialect_insert(session, RegionGeneration).values(region=region, generation=1)
        session.execute(stmt.on_conflict_do_update(
            index_elements=["region"], set_={"generation": RegionGeneration.generation + 1}))


async def region_state(s: AsyncSession, region: str) -> tuple[int, int]:
    """(the region's stored generation, the latest statistics publication): what another
    replica may have changed since an index of the region was built."""
    generation = await s.scalar(select(RegionGeneration.generation).where(
        RegionGeneration.region == region))
    publication = await s.scalar(select(func.max(StatisticsPublication.seq)))
    return int(generation or 0), int(publication or 0)


@sa_event.listens_for(Session, "after_commit")
def _bump_generations(session: Session) -> None:
    regions = session.info.pop(_CHANGED, None)
    for region in regions or ():
        GENERATIONS[region] += 1


@sa_event.listens_for(Session, "after_rollback")
def _forget_changes(session: Session) -> None:
    session.info.pop(_CHANGED, None)


# ------------------------------------------------------------------ read models


async def places_held(s: AsyncSession, offering_id: str) -> int:
    return int(await s.scalar(select(func.count()).select_from(VoucherView).where(
        VoucherView.offering_id == offering_id, VoucherView.state.in_(HOLDS_PLACE))) or 0)


_DELTAS = "matching_place_deltas"


def gather_places(s: AsyncSession) -> None:
    """From now on, :func:`move_place` adds up its changes until :func:`apply_places`."""
    s.info[_DELTAS] = defaultdict(int)


async def apply_places(s: AsyncSession) -> None:
    deltas = s.info.pop(_DELTAS, None) or {}
    for offering_id, delta in sorted(deltas.items()):
        if delta:
            await _move(s, offering_id, delta)


async def move_place(s: AsyncSession, offering_id: str, delta: int) -> None:
    """One place more (+1) or less (-1) held on the offering, if it is known yet (else its
    first event counts them, see consumers.on_offering)."""
    gathered = s.info.get(_DELTAS)
    if gathered is not None:
        gathered[offering_id] += delta
        return
    await _move(s, offering_id, delta)


async def _move(s: AsyncSession, offering_id: str, delta: int) -> None:
    await s.execute(update(OfferingView).where(OfferingView.offering_id == offering_id)
                    .values(taken=OfferingView.taken + delta)
                    .execution_options(synchronize_session=False))


async def load_vouchers(s: AsyncSession, voucher_ids: Sequence[str]) -> list[VoucherView]:
    """These vouchers' rows, brought into the session: while the caller holds them, a batch
    of events reads them (``s.get``) without a query each."""
    out: list[VoucherView] = []
    for i in range(0, len(voucher_ids), 500):
        out += (await s.scalars(select(VoucherView).where(
            VoucherView.voucher_id.in_(voucher_ids[i:i + 500])))).all()
    return out


async def voucher_choices(s: AsyncSession, voucher_ids: Sequence[str]
                          ) -> dict[str, tuple[int, str, str | None]]:
    """(version, state, offering_id) of these vouchers' rows, without ORM objects."""
    out: dict[str, tuple[int, str, str | None]] = {}
    for i in range(0, len(voucher_ids), 500):
        rows = await s.execute(select(VoucherView.voucher_id, VoucherView.version,
                                      VoucherView.state, VoucherView.offering_id)
                               .where(VoucherView.voucher_id.in_(voucher_ids[i:i + 500])))
        out.update({r[0]: (r[1], r[2], r[3]) for r in rows.all()})
    return out


_VOUCHERS = cast(Table, VoucherView.__table__)
_ASSIGNED = (update(_VOUCHERS).where(_VOUCHERS.c.voucher_id == bindparam("b_voucher_id"))
             .values(**{name: bindparam(f"b_{name}") for name in (
                 "version", "state", "provider_id", "offering_id", "chosen_by")}))


async def set_choices(s: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Each voucher's new version, state and choice in one executemany UPDATE (rows of
    b_voucher_id, b_version, b_state, b_provider_id, b_offering_id, b_chosen_by). A row of
    these vouchers already in the session is kept as the database now has it."""
    if not rows:
        return
    await s.execute(_ASSIGNED, rows)
    held = s.sync_session.identity_map
    for row in rows:
        obj = held.get(identity_key(VoucherView, row["b_voucher_id"]))
        if obj is not None:
            for name, value in row.items():
                if name != "b_voucher_id":
                    set_committed_value(obj, name.removeprefix("b_"), value)


async def voucher(s: AsyncSession, voucher_id: str) -> VoucherView | None:
    return await s.get(VoucherView, voucher_id)


async def offering(s: AsyncSession, offering_id: str) -> OfferingView | None:
    return await s.get(OfferingView, offering_id)


async def offerings_by_id(s: AsyncSession, offering_ids: Sequence[str]
                          ) -> dict[str, OfferingView]:
    if not offering_ids:
        return {}
    rows = await s.scalars(select(OfferingView).where(
        OfferingView.offering_id.in_(list(offering_ids))))
    return {o.offering_id: o for o in rows.all()}


async def offerings_of(s: AsyncSession, region: str, service_type: str | None
                       ) -> list[OfferingView]:
    q = select(OfferingView).where(OfferingView.region == region)
    if service_type is not None:
        q = q.where(OfferingView.service_type == service_type)
    return list((await s.scalars(q.order_by(OfferingView.offering_id))).all())


async def accreditations_in(s: AsyncSession, region: str) -> list[AccreditationView]:
    return list((await s.scalars(select(AccreditationView).where(
        AccreditationView.region == region))).all())


async def regions_of(s: AsyncSession, provider_id: str) -> list[str]:
    return list((await s.scalars(select(AccreditationView.region).where(
        AccreditationView.provider_id == provider_id))).all())


async def provider_names(s: AsyncSession, provider_ids: Sequence[str]) -> dict[str, str]:
    if not provider_ids:
        return {}
    rows = await s.execute(select(ProviderView.provider_id, ProviderView.legal_name).where(
        ProviderView.provider_id.in_(list(provider_ids))))
    return {pid: name for pid, name in rows.all()}


async def ratings_in(s: AsyncSession, region: str, service_type: str | None = None,
                     providers: Collection[str] | None = None,
                     ) -> list[tuple[str, str, int, float]]:
    """(service type, provider, count, mean stars) of the region (of ``service_type`` and
    ``providers`` when given)."""
    query = select(RatingView.service_type, RatingView.provider_id, func.count(),
                   func.avg(RatingView.stars)).where(RatingView.region == region)
    if service_type is not None:
        query = query.where(RatingView.service_type == service_type)
    if providers is not None:
        query = query.where(RatingView.provider_id.in_(sorted(providers)))
    rows = await s.execute(query.group_by(RatingView.service_type, RatingView.provider_id))
    return [(st, pid, int(n), float(mean)) for st, pid, n, mean in rows.all()]


async def pending_vouchers(s: AsyncSession, region: str, as_of: date) -> list[VoucherView]:
    """Vouchers of the region with no choice whose choice deadline has passed."""
    return list((await s.scalars(
        select(VoucherView).where(VoucherView.region == region,
                                  VoucherView.state == "issued",
                                  VoucherView.choice_deadline < as_of)
        .order_by(VoucherView.voucher_id))).all())


async def regions_waiting(s: AsyncSession, as_of: date) -> list[str]:
    """Regions with vouchers waiting for a default assignment."""
    return list((await s.scalars(
        select(VoucherView.region).where(VoucherView.state == "issued",
                                         VoucherView.choice_deadline < as_of)
        .distinct().order_by(VoucherView.region))).all())


async def started_vouchers(s: AsyncSession, since: date) -> list[VoucherView]:
    return list((await s.scalars(
        select(VoucherView).where(VoucherView.started_on.is_not(None),
                                  VoucherView.started_on >= since,
                                  VoucherView.provider_id.is_not(None))
        .order_by(VoucherView.voucher_id))).all())


# ------------------------------------------------------------------ runs and overrides


async def run(s: AsyncSession, run_id: str) -> AssignmentRun | None:
    return await s.get(AssignmentRun, run_id)


async def proposals(s: AsyncSession, run_id: str) -> list[AssignmentProposal]:
    return list((await s.scalars(select(AssignmentProposal).where(
        AssignmentProposal.run_id == run_id).order_by(AssignmentProposal.voucher_id))).all())


async def proposal(s: AsyncSession, run_id: str, voucher_id: str) -> AssignmentProposal | None:
    return await s.get(AssignmentProposal, (run_id, voucher_id))


async def overrides_in(s: AsyncSession, voucher_ids: Sequence[str]
                       ) -> dict[str, AssignmentOverride]:
    out: dict[str, AssignmentOverride] = {}
    ids = list(voucher_ids)
    for i in range(0, len(ids), 500):
        rows = await s.scalars(select(AssignmentOverride).where(
            AssignmentOverride.voucher_id.in_(ids[i:i + 500])))
        out.update({o.voucher_id: o for o in rows.all()})
    return out


async def runs_of(s: AsyncSession, region: str, *, before: tuple[datetime, str] | None,
                  limit: int) -> list[AssignmentRun]:
    """``limit + 1`` of the region's runs, newest first, before the position ``before``."""
    q = select(AssignmentRun).where(AssignmentRun.region == region)
    if before is not None:
        created, run_id = before
        q = q.where(or_(AssignmentRun.created_at < created,
                        and_(AssignmentRun.created_at == created,
                             AssignmentRun.run_id < run_id)))
    q = q.order_by(AssignmentRun.created_at.desc(), AssignmentRun.run_id.desc())
    return list((await s.scalars(q.limit(limit + 1))).all())


async def proposals_page(s: AsyncSession, run_id: str, *, after: str | None, limit: int
                         ) -> list[AssignmentProposal]:
    """``limit + 1`` of the run's proposals in voucher id order, after ``after``."""
    q = select(AssignmentProposal).where(AssignmentProposal.run_id == run_id)
    if after is not None:
        q = q.where(AssignmentProposal.voucher_id > after)
    q = q.order_by(AssignmentProposal.voucher_id).limit(limit + 1)
    return list((await s.scalars(q)).all())


async def latest_proposal(s: AsyncSession, voucher_id: str
                          ) -> tuple[AssignmentProposal, AssignmentRun] | None:
    """The voucher's proposal in the newest run that had one, and that run."""
    row = (await s.execute(
        select(AssignmentProposal, AssignmentRun)
        .join(AssignmentRun, AssignmentRun.run_id == AssignmentProposal.run_id)
        .where(AssignmentProposal.voucher_id == voucher_id)
        .order_by(AssignmentRun.created_at.desc(), AssignmentRun.run_id.desc())
        .limit(1))).first()
    return None if row is None else (row[0], row[1])


async def add_proposals(s: AsyncSession, rows: list[dict[str, Any]]) -> None:
    for i in range(0, len(rows), 2000):
        await s.execute(insert(AssignmentProposal), rows[i:i + 2000])


# ------------------------------------------------------------------ statistics


async def latest_publication(s: AsyncSession) -> StatisticsPublication | None:
    return await s.scalar(select(StatisticsPublication)
                          .order_by(StatisticsPublication.seq.desc()).limit(1))


# ------------------------------------------------------------------ rebuild


READ_MODELS = (ProviderView, AccreditationView, OfferingView, VoucherView, RatingView)


async def drop_read_models(s: AsyncSession, consumers: Sequence[str]) -> None:
    """Empty the read models and the consumers' inbox (runs, overrides and publications are
    the service's own decisions and stay)."""
    for model in READ_MODELS:
        await s.execute(delete(model))
    await s.execute(delete(plumbing.inbox).where(plumbing.inbox.c.consumer.in_(consumers)))


def read_model_tables() -> list[str]:
    return [m.__tablename__ for m in READ_MODELS if m.__tablename__ in metadata.tables]
