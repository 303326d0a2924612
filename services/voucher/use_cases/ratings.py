"""Ratings: the verified holder of a completed voucher rates its provider once."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.principal import Principal
from contracts.voucher import RatingGiven
from kit.db import Database
from kit.errors import Conflict, Forbidden
from kit.idempotency import Once
from kit.outbox import add_event
from services.voucher import access, repository
from services.voucher.models import Rating, plumbing
from services.voucher.schemas import RatingIn, RatingOut
from services.voucher.use_cases.common import now, once


async def rate(db: Database, principal: Principal, voucher_id: str,
               body: RatingIn, key: str | None) -> Once[RatingOut]:
    async def work(s: AsyncSession) -> RatingOut:
        v = access.visible_voucher(principal, await repository.voucher(s, voucher_id,
                                                                       lock=True))
        if not access.is_holder(principal, v):
            raise Forbidden("only the holder rates the provider")
        if v.state != "completed":
            raise Conflict("a voucher is rated once the service is completed",
                           type="/problems/voucher-state")
        if await repository.rating(s, v.id) is not None:
            raise Conflict("the voucher has already been rated", type="/problems/already-rated")
        assert v.provider_id is not None and v.offering_id is not None
        r = Rating(voucher_id=v.id, provider_id=v.provider_id, offering_id=v.offering_id,
                   stars=body.stars, comment=body.comment or None, given_at=now())
        s.add(r)
        try:
            async with s.begin_nested():
                await s.flush()
        except IntegrityError:
            raise Conflict("the voucher has already been rated",
                           type="/problems/already-rated") from None
        await add_event(s, plumbing, RatingGiven(
            voucher_id=v.id, provider_id=v.provider_id, offering_id=v.offering_id,
            region=v.region, service_type=v.service_type, stars=body.stars), resource=v.id)
        out = RatingOut(voucher_id=v.id, provider_id=r.provider_id, stars=r.stars,
                        comment=r.comment, given_at=r.given_at)
        return out

    return await once(db, principal, f"POST /vouchers/{voucher_id}/rating", key,
                      body.model_dump(mode="json"), work, RatingOut)
