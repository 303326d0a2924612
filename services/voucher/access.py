"""Who may see and do what in the voucher service (invariant 4 in docs/ARCHITECTURE.md),
decided here and nowhere else. Someone who may not see a voucher or a claim is told it does not
exist (404)."""

from __future__ import annotations

from dataclasses import dataclass

from contracts.principal import Principal, Role
from kit.errors import Forbidden, NotFound
from services.voucher.models import Claim, PaymentBatch, Voucher


def is_region_admin(p: Principal, region: str) -> bool:
    return p.role is Role.region_admin and p.region == region


def is_holder(p: Principal, v: Voucher) -> bool:
    return p.role is Role.citizen and p.person_key is not None and p.person_key == v.person_key


def is_current_provider(p: Principal, v: Voucher) -> bool:
    return p.role is Role.provider and p.provider_id is not None and p.provider_id == v.provider_id


def can_see_voucher(p: Principal, v: Voucher) -> bool:
    return is_region_admin(p, v.region) or is_holder(p, v) or is_current_provider(p, v)


def sees_holder_details(p: Principal, v: Voucher) -> bool:
    """The code, the profile and a company holder's business ID: holder and admins only."""
    return is_region_admin(p, v.region) or is_holder(p, v)


def can_see_claim(p: Principal, c: Claim) -> bool:
    return is_region_admin(p, c.region) or (p.role is Role.provider
                                            and p.provider_id == c.provider_id)


def visible_voucher(p: Principal, v: Voucher | None) -> Voucher:
    if v is None or not can_see_voucher(p, v):
        raise NotFound("no such voucher")
    return v


def visible_claim(p: Principal, c: Claim | None) -> Claim:
    if c is None or not can_see_claim(p, c):
        raise NotFound("no such claim")
    return c


def visible_batch(p: Principal, b: PaymentBatch | None) -> PaymentBatch:
    if b is None or not is_region_admin(p, b.region):
        raise NotFound("no such payment batch")
    return b


def admin_region(p: Principal) -> str:
    if p.role is not Role.region_admin or not p.region:
        raise Forbidden("only a region admin may do this")
    return p.region


@dataclass(frozen=True)
class VoucherScope:
    """Which vouchers a list shows: exactly one of these is set."""

    region: str | None = None
    person_key: str | None = None
    provider_id: str | None = None


def voucher_scope(p: Principal) -> VoucherScope:
    if p.role is Role.region_admin and p.region:
        return VoucherScope(region=p.region)
    if p.role is Role.citizen and p.person_key:
        return VoucherScope(person_key=p.person_key)
    if p.role is Role.provider and p.provider_id:
        return VoucherScope(provider_id=p.provider_id)
    raise Forbidden("vouchers are listed for their holders, providers and region admins")


def claim_scope(p: Principal) -> VoucherScope:
    if p.role is Role.region_admin and p.region:
        return VoucherScope(region=p.region)
    if p.role is Role.provider and p.provider_id:
        return VoucherScope(provider_id=p.provider_id)
    raise Forbidden("claims are listed for providers and region admins")
