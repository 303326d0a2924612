"""Queries of the voucher service: they flush, never commit. Locks say why they are taken.

Lock order, everywhere: the voucher (or claim, or batch) row first, then the offering's places,
then ledger accounts (in account-id order, inside services/voucher/ledger.py), then the audit
chain's head. Two transactions therefore never wait for each other in a circle."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, case, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kit.db import insert_ignoring_conflicts
from services.voucher.access import VoucherScope
from services.voucher.models import (
    AccreditationView,
    Budget,
    Claim,
    OfferingPlace,
    OfferingView,
    PaymentBatch,
    Rating,
    ServiceTypeView,
    Voucher,
    VoucherChoice,
    VoucherMilestone,
)


async def service_type(s: AsyncSession, code: str) -> ServiceTypeView | None:
    return await s.get(ServiceTypeView, code)


async def budget(s: AsyncSession, budget_id: str, *, lock: bool = False) -> Budget | None:
    """``lock``: closing and topping up hold the budget row so that its version grows by one."""
    return await s.get(Budget, budget_id, with_for_update=lock)


async def budgets(s: AsyncSession, region: str, *, after: str | None,
                  limit: int) -> Sequence[Budget]:
    q = select(Budget).where(Budget.region == region)
    if after:
        q = q.where(Budget.id > after)
    return (await s.scalars(q.order_by(Budget.id).limit(limit))).all()


async def budget_exists(s: AsyncSession, region: str, service_type: str,
                        period_start: date) -> bool:
    found = await s.scalar(select(Budget.id).where(
        Budget.region == region, Budget.service_type == service_type,
        Budget.period_start == period_start))
    return found is not None


async def voucher(s: AsyncSession, voucher_id: str, *, lock: bool = False) -> Voucher | None:
    """``lock``: every change of a voucher holds its row first (one change at a time)."""
    return await s.get(Voucher, voucher_id, with_for_update=lock, populate_existing=lock)


async def vouchers(s: AsyncSession, scope: VoucherScope, *, state: str | None,
                   after: str | None, limit: int) -> Sequence[Voucher]:
    q = select(Voucher)
    if scope.region is not None:
        q = q.where(Voucher.region == scope.region)
    elif scope.person_key is not None:
        q = q.where(Voucher.person_key == scope.person_key)
    else:
        q = q.where(Voucher.provider_id == scope.provider_id)
    if state:
        q = q.where(Voucher.state == state)
    if after:
        q = q.where(Voucher.id > after)
    return (await s.scalars(q.order_by(Voucher.id).limit(limit))).all()


async def code_taken(s: AsyncSession, code: str) -> bool:
    return await s.scalar(select(Voucher.id).where(Voucher.code == code)) is not None


async def offering(s: AsyncSession, offering_id: str) -> OfferingView | None:
    return await s.get(OfferingView, offering_id)


async def accreditation(s: AsyncSession, provider_id: str,
                        region: str) -> AccreditationView | None:
    return await s.get(AccreditationView, (provider_id, region))


async def take_place(s: AsyncSession, offering_id: str) -> bool:
    """Take one place of the offering if one is open: one conditional UPDATE, so the last
    place goes to exactly one of any number of concurrent choosers."""
    await s.execute(insert_ignoring_conflicts(s, OfferingPlace.__table__,
                                              {"offering_id": offering_id, "taken": 0}))
    capacity = select(OfferingView.capacity).where(
        OfferingView.offering_id == offering_id).scalar_subquery()
    result = await s.execute(
        update(OfferingPlace)
        .where(OfferingPlace.offering_id == offering_id, OfferingPlace.taken < capacity)
        .values(taken=OfferingPlace.taken + 1)
        .execution_options(synchronize_session=False))
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def free_place(s: AsyncSession, offering_id: str) -> None:
    await s.execute(update(OfferingPlace)
                    .where(OfferingPlace.offering_id == offering_id, OfferingPlace.taken > 0)
                    .values(taken=OfferingPlace.taken - 1)
                    .execution_options(synchronize_session=False))


async def places_taken(s: AsyncSession, offering_id: str) -> int:
    return int(await s.scalar(select(OfferingPlace.taken).where(
        OfferingPlace.offering_id == offering_id)) or 0)


async def current_choice(s: AsyncSession, voucher_id: str) -> VoucherChoice | None:
    return await s.scalar(select(VoucherChoice).where(
        VoucherChoice.voucher_id == voucher_id, VoucherChoice.ended_at.is_(None)))


async def choices(s: AsyncSession, voucher_id: str) -> Sequence[VoucherChoice]:
    return (await s.scalars(select(VoucherChoice).where(VoucherChoice.voucher_id == voucher_id)
                            .order_by(VoucherChoice.seq))).all()


async def milestone(s: AsyncSession, voucher_id: str, code: str) -> VoucherMilestone | None:
    return await s.get(VoucherMilestone, (voucher_id, code))


async def claim(s: AsyncSession, claim_id: str, *, lock: bool = False) -> Claim | None:
    """``lock``: a decision holds the claim row, so it is decided once."""
    return await s.get(Claim, claim_id, with_for_update=lock, populate_existing=lock)


async def live_claim(s: AsyncSession, voucher_id: str, code: str) -> Claim | None:
    return await s.scalar(select(Claim).where(Claim.voucher_id == voucher_id,
                                              Claim.milestone == code,
                                              Claim.status != "rejected"))


async def claims_of_voucher(s: AsyncSession, voucher_id: str) -> Sequence[Claim]:
    return (await s.scalars(select(Claim).where(Claim.voucher_id == voucher_id)
                            .order_by(Claim.id))).all()


async def claims(s: AsyncSession, scope: VoucherScope, *, status: str | None,
                 after: str | None, limit: int) -> Sequence[Claim]:
    q = select(Claim)
    q = (q.where(Claim.region == scope.region) if scope.region is not None
         else q.where(Claim.provider_id == scope.provider_id))
    if status:
        q = q.where(Claim.status == status)
    if after:
        q = q.where(Claim.id > after)
    return (await s.scalars(q.order_by(Claim.id).limit(limit))).all()


async def payable_claims(s: AsyncSession, region: str, limit: int) -> Sequence[Claim]:
    """Approved claims of the region not in a batch yet, locked: two batches never take the
    same claim."""
    return (await s.scalars(
        select(Claim).where(Claim.region == region, Claim.status == "approved",
                            Claim.payment_batch_id.is_(None))
        .order_by(Claim.id).limit(limit).with_for_update())).all()


async def claims_by_ids(s: AsyncSession, ids: Sequence[str]) -> Sequence[Claim]:
    return (await s.scalars(select(Claim).where(Claim.id.in_(ids)).order_by(Claim.id)
                            .with_for_update())).all()


async def paid_cents(s: AsyncSession, voucher_ids: Sequence[str]) -> dict[str, int]:
    rows = await s.execute(select(Claim.voucher_id, func.sum(Claim.amount_cents))
                           .where(Claim.voucher_id.in_(voucher_ids),
                                  Claim.status.in_(("approved", "paid")))
                           .group_by(Claim.voucher_id))
    return {str(v): int(total or 0) for v, total in rows.all()}


async def batch(s: AsyncSession, batch_id: str, *, lock: bool = False) -> PaymentBatch | None:
    return await s.get(PaymentBatch, batch_id, with_for_update=lock, populate_existing=lock)


async def batches(s: AsyncSession, region: str, *, after: str | None,
                  limit: int) -> Sequence[PaymentBatch]:
    q = select(PaymentBatch).where(PaymentBatch.region == region)
    if after:
        q = q.where(PaymentBatch.id > after)
    return (await s.scalars(q.order_by(PaymentBatch.id).limit(limit))).all()


async def rating(s: AsyncSession, voucher_id: str) -> Rating | None:
    return await s.get(Rating, voucher_id)


async def due_to_expire(s: AsyncSession, today: date, limit: int) -> Sequence[str]:
    """Vouchers past their validity (or their choice deadline) that never started."""
    return (await s.scalars(
        select(Voucher.id).where(Voucher.state.in_(("issued", "chosen")),
                                 Voucher.valid_until < today).order_by(Voucher.id)
        .limit(limit))).all()


async def outcome_due(s: AsyncSession, today: date, limit: int) -> Sequence[str]:
    """Started vouchers whose outcome deadline passed with no outcome recorded."""
    return (await s.scalars(
        select(Voucher.id).where(Voucher.outcome.is_(None),
                                 Voucher.outcome_deadline.is_not(None),
                                 Voucher.outcome_deadline < today).order_by(Voucher.id)
        .limit(limit))).all()


async def vouchers_of_provider_in_region(s: AsyncSession, provider_id: str, region: str,
                                         states: Sequence[str]) -> Sequence[str]:
    return (await s.scalars(select(Voucher.id).where(
        Voucher.provider_id == provider_id, Voucher.region == region,
        Voucher.state.in_(states)).order_by(Voucher.id))).all()


async def vouchers_of_offering(s: AsyncSession, offering_id: str,
                               states: Sequence[str]) -> Sequence[str]:
    return (await s.scalars(select(Voucher.id).where(
        Voucher.offering_id == offering_id, Voucher.state.in_(states))
        .order_by(Voucher.id))).all()


# ------------------------------------------------------------------ many at once (batches)


async def vouchers_by_id(s: AsyncSession, ids: Sequence[str], *, lock: bool = False
                         ) -> dict[str, Voucher]:
    """Vouchers by id (``lock``: their rows held for the change, as :func:`voucher` does)."""
    out: dict[str, Voucher] = {}
    for i in range(0, len(ids), 500):
        q = select(Voucher).where(Voucher.id.in_(ids[i:i + 500])).order_by(Voucher.id)
        if lock:
            q = q.with_for_update().execution_options(populate_existing=True)
        out.update({v.id: v for v in (await s.scalars(q)).all()})
    return out


async def take_places(s: AsyncSession, wanted: dict[str, int]) -> dict[str, int]:
    """Take up to ``wanted[o]`` places of each offering o at once; returns how many each
    gave. The rows are locked (PostgreSQL; SQLite has one writer), so the open places read
    are the ones updated: no place is given twice."""
    if not wanted:
        return {}
    ids = sorted(wanted)
    await s.execute(insert_ignoring_conflicts(s, OfferingPlace.__table__,
                                              [{"offering_id": o, "taken": 0} for o in ids]))
    rows = (await s.execute(
        select(OfferingPlace.offering_id, OfferingPlace.taken, OfferingView.capacity)
        .join(OfferingView, OfferingView.offering_id == OfferingPlace.offering_id)
        .where(OfferingPlace.offering_id.in_(ids)).order_by(OfferingPlace.offering_id)
        .with_for_update(of=OfferingPlace))).all()
    given = {o: max(0, min(wanted[o], capacity - taken)) for o, taken, capacity in rows}
    for o, n in given.items():
        if n:
            await s.execute(update(OfferingPlace).where(OfferingPlace.offering_id == o)
                            .values(taken=OfferingPlace.taken + n)
                            .execution_options(synchronize_session=False))
    return given


# ------------------------------------------------------------------ default assignments, set-based

CHOICE_COLUMNS = (Voucher.id, Voucher.state, Voucher.region, Voucher.service_type,
                  Voucher.choice_deadline, Voucher.chosen_by, Voucher.provider_id,
                  Voucher.offering_id, Voucher.value_cents, Voucher.version)


async def choice_rows(s: AsyncSession, ids: Sequence[str]) -> dict[str, Row[Any]]:
    """What choosing needs of these vouchers (:data:`CHOICE_COLUMNS`), their rows held for
    the change as :func:`voucher` holds one; no ORM objects."""
    out: dict[str, Row[Any]] = {}
    for i in range(0, len(ids), 500):
        rows = await s.execute(select(*CHOICE_COLUMNS).where(Voucher.id.in_(ids[i:i + 500]))
                               .order_by(Voucher.id).with_for_update())
        out.update({r.id: r for r in rows.all()})
    return out


async def choice_rules(s: AsyncSession, offering_ids: Sequence[str]) -> tuple[
        dict[str, OfferingView], dict[tuple[str, str], AccreditationView]]:
    """The offerings and their providers' accreditations (by provider and region)."""
    offerings: dict[str, OfferingView] = {}
    accreditations: dict[tuple[str, str], AccreditationView] = {}
    ids = list(offering_ids)
    for i in range(0, len(ids), 500):
        found = (await s.scalars(select(OfferingView).where(
            OfferingView.offering_id.in_(ids[i:i + 500])))).all()
        offerings.update({o.offering_id: o for o in found})
        providers = sorted({o.provider_id for o in found})
        if providers:
            accreditations.update({(a.provider_id, a.region): a for a in (await s.scalars(
                select(AccreditationView).where(
                    AccreditationView.provider_id.in_(providers)))).all()})
    return offerings, accreditations


async def free_places(s: AsyncSession, freed: dict[str, int]) -> None:
    """Give back ``freed[o]`` places of each offering o (never below none taken)."""
    for offering_id, n in sorted(freed.items()):
        await s.execute(update(OfferingPlace)
                        .where(OfferingPlace.offering_id == offering_id, OfferingPlace.taken > 0)
                        .values(taken=case((OfferingPlace.taken > n, OfferingPlace.taken - n),
                                           else_=0))
                        .execution_options(synchronize_session=False))


async def end_choices(s: AsyncSession, voucher_ids: Sequence[str], at: datetime,
                      reason: str) -> None:
    """Close the open choice of each of these vouchers."""
    for i in range(0, len(voucher_ids), 500):
        await s.execute(update(VoucherChoice)
                        .where(VoucherChoice.voucher_id.in_(voucher_ids[i:i + 500]),
                               VoucherChoice.ended_at.is_(None))
                        .values(ended_at=at, end_reason=reason)
                        .execution_options(synchronize_session=False))


async def add_choices(s: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """New choice rows (voucher_id, offering_id, provider_id, chosen_by, actor, chosen_at),
    in this order (their ``seq``)."""
    if rows:
        await s.execute(insert(cast(Table, VoucherChoice.__table__)), rows)


_VOUCHER = cast(Table, Voucher.__table__)
_CHOSEN = (update(_VOUCHER).where(_VOUCHER.c.id == bindparam("b_id"))
           .values(state=bindparam("b_state"), provider_id=bindparam("b_provider_id"),
                   offering_id=bindparam("b_offering_id"), chosen_by=bindparam("b_chosen_by"),
                   co_payment_cents=bindparam("b_co_payment_cents"),
                   version=bindparam("b_version")))


async def set_chosen(s: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Each voucher's new choice in one UPDATE run as executemany: rows of b_id, b_state,
    b_provider_id, b_offering_id, b_chosen_by, b_co_payment_cents, b_version."""
    if rows:
        await s.execute(_CHOSEN, rows)
