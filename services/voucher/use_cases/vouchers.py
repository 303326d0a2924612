"""Reads of vouchers: each viewer sees the vouchers access.py lets them see, as it lets them."""

from __future__ import annotations

from contracts.principal import Principal
from contracts.voucher import Chooser
from kit.db import Database
from kit.errors import NotFound
from services.voucher import access, repository
from services.voucher.schemas import ChoiceOut, VoucherOut
from services.voucher.use_cases.common import voucher_out


async def get(db: Database, principal: Principal, voucher_id: str) -> VoucherOut:
    async with db.reader() as s:
        v = access.visible_voucher(principal, await repository.voucher(s, voucher_id))
        paid = await repository.paid_cents(s, [v.id])
    return voucher_out(v, principal, paid.get(v.id, 0))


async def list_(db: Database, principal: Principal, *, state: str | None, after: str | None,
                limit: int) -> list[VoucherOut]:
    scope = access.voucher_scope(principal)
    async with db.reader() as s:
        rows = await repository.vouchers(s, scope, state=state, after=after, limit=limit)
        paid = await repository.paid_cents(s, [v.id for v in rows])
    return [voucher_out(v, principal, paid.get(v.id, 0)) for v in rows]


async def choices(db: Database, principal: Principal, voucher_id: str) -> list[ChoiceOut]:
    """The history of choices: the holder and the region's admins."""
    async with db.reader() as s:
        v = access.visible_voucher(principal, await repository.voucher(s, voucher_id))
        if not access.sees_holder_details(principal, v):
            raise NotFound("no such voucher")
        rows = await repository.choices(s, v.id)
    return [ChoiceOut(offering_id=c.offering_id, provider_id=c.provider_id,
                      chosen_by=Chooser(c.chosen_by), chosen_at=c.chosen_at,
                      ended_at=c.ended_at, end_reason=c.end_reason) for c in rows]
