"""Who may see and do what in the matching service, decided here and nowhere else. Someone who
may not see a voucher's recommendations is told it does not exist (404), never 403: the answer
must not tell a stranger that the voucher exists."""

from __future__ import annotations

from contracts.principal import Principal, Role
from kit.errors import Forbidden, NotFound
from kit.persons import holder_ref_matches
from services.matching.models import VoucherView


def is_region_admin(p: Principal, region: str) -> bool:
    return p.role is Role.region_admin and p.region == region


def is_holder(p: Principal, v: VoucherView) -> bool:
    """The citizen whose person key, with the voucher's id, gives the voucher's holder_ref."""
    return p.role is Role.citizen and holder_ref_matches(p.person_key, v.voucher_id,
                                                         v.holder_ref)


def visible_voucher(p: Principal, v: VoucherView | None) -> VoucherView:
    if v is None or not (is_holder(p, v) or is_region_admin(p, v.region)):
        raise NotFound("no such voucher")
    return v


def admin_region(p: Principal, region: str | None = None) -> str:
    """The admin's own region (and, when ``region`` is asked for, only that one)."""
    if p.role is not Role.region_admin or not p.region:
        raise Forbidden("only a region admin may do this")
    if region is not None and region != p.region:
        raise Forbidden("a region admin sees only their own region")
    return p.region
