"""The holder's choice of provider (or a region admin's on their behalf, audited), and the
rules of what can be chosen: an offering whose provider is approved in the voucher's region,
for the voucher's service type, with an open place. Places are taken here, against the
capacity the registry publishes, by one conditional UPDATE: the last one goes to one chooser."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.principal import Principal
from contracts.voucher import Chooser, VoucherProviderChosen
from kit.db import Database
from kit.errors import Conflict, Forbidden, Unprocessable
from kit.idempotency import Once
from services.voucher import access, repository
from services.voucher.domain.choosing import not_choosable
from services.voucher.domain.lifecycle import (
    Action,
    IllegalTransition,
    VoucherState,
    transition,
)
from services.voucher.domain.money import co_payment_cents
from services.voucher.models import OfferingView, Voucher, VoucherChoice
from services.voucher.schemas import ChoiceIn, VoucherOut
from services.voucher.use_cases.common import (
    emit,
    now,
    once,
    record,
    refused,
    today,
    voucher_out,
)


async def choosable(s: AsyncSession, v: Voucher, offering_id: str) -> OfferingView:
    """The offering, if the voucher's holder may choose it now; else why not."""
    o = await repository.offering(s, offering_id)
    if o is None:
        raise Unprocessable.field("offering_id", "no such offering")
    acc = await repository.accreditation(s, o.provider_id, v.region)
    why = not_choosable(o, acc, v.region, v.service_type, today())
    if why:
        raise Conflict(why, type="/problems/offering-not-choosable")
    return o


async def move_places(s: AsyncSession, take: str, free: str | None) -> None:
    """Take a place of ``take`` and give back one of ``free``, touching the two rows in the
    order of their ids (as every transaction does), so two changes in opposite directions
    never wait for each other."""
    for offering_id in sorted({take} | ({free} if free else set())):
        if offering_id == take:
            if not await repository.take_place(s, take):
                raise Conflict("the offering has no open place", type="/problems/no-open-place")
        else:
            await repository.free_place(s, offering_id)


async def end_choice(s: AsyncSession, v: Voucher, reason: str) -> None:
    current = await repository.current_choice(s, v.id)
    if current is not None:
        current.ended_at, current.end_reason = now(), reason


async def set_choice(s: AsyncSession, v: Voucher, o: OfferingView, chooser: Chooser,
                     actor: Principal | None, reason: str) -> None:
    if v.offering_id is not None:  # a voucher without an offering has no open choice
        await end_choice(s, v, reason)
    s.add(VoucherChoice(voucher_id=v.id, offering_id=o.offering_id, provider_id=o.provider_id,
                        chosen_by=chooser.value, actor=actor.sub if actor else "system",
                        chosen_at=now()))
    v.provider_id, v.offering_id, v.chosen_by = o.provider_id, o.offering_id, chooser.value
    v.co_payment_cents = co_payment_cents(o.unit_price_cents, v.value_cents)
    v.version += 1


async def choose(db: Database, principal: Principal, voucher_id: str,
                 body: ChoiceIn, key: str | None) -> Once[VoucherOut]:
    async def work(s: AsyncSession) -> VoucherOut:
        v = access.visible_voucher(principal, await repository.voucher(s, voucher_id,
                                                                       lock=True))
        if access.is_holder(principal, v):
            chooser = Chooser.holder
            if today() > v.choice_deadline:
                raise Conflict("the choice deadline has passed; the region assigns a provider",
                               type="/problems/choice-deadline-passed")
        elif access.is_region_admin(principal, v.region):
            chooser = Chooser.admin_on_behalf
            if not body.reason:
                raise Unprocessable.field("reason", "is required when choosing on the "
                                          "holder's behalf")
        else:
            raise Forbidden("only the holder or a region admin chooses the provider")
        if v.offering_id == body.offering_id and v.state == VoucherState.chosen:
            return voucher_out(v, principal, 0)
        try:
            v.state = transition(VoucherState(v.state), Action.choose).value
        except IllegalTransition as exc:
            raise refused(exc) from None
        o = await choosable(s, v, body.offering_id)
        previous = (v.provider_id, v.offering_id)
        await move_places(s, o.offering_id, previous[1])
        await set_choice(s, v, o, chooser, principal, "changed")
        if chooser is Chooser.admin_on_behalf:
            await record(s, principal, action="voucher.chosen_on_behalf", subject_type="voucher",
                         subject_id=v.id, region=v.region, reason=body.reason or "",
                         details={"offering_id": o.offering_id, "provider_id": o.provider_id})
        await emit(s, VoucherProviderChosen, v, chosen_by=chooser,
                   previous_provider_id=previous[0], previous_offering_id=previous[1])
        return voucher_out(v, principal, 0)

    return await once(db, principal, f"POST /vouchers/{voucher_id}/choice", key,
                      body.model_dump(mode="json"), work, VoucherOut)

