"""The read models as the plain values the matching rules take (services.matching.domain)."""

from __future__ import annotations

from datetime import date

from services.matching.domain.types import OfferingView, OutcomeRecord, ProfileBands, VoucherView
from services.matching.models import AccreditationView
from services.matching.models import OfferingView as OfferingRow
from services.matching.models import VoucherView as VoucherRow


def profile(row: VoucherRow) -> ProfileBands:
    p = row.profile or {}
    return ProfileBands(unemployment=p.get("unemployment", "unknown"),
                        education=p.get("education", "unknown"),
                        earlier_services=p.get("earlier_services", "unknown"))


def voucher(row: VoucherRow) -> VoucherView:
    return VoucherView(
        voucher_id=row.voucher_id, region=row.region, service_type=row.service_type,
        holder_kind=row.holder_kind, home_municipality=row.home_municipality,
        languages=tuple(row.languages), remote_suits=row.remote_suits,
        value_cents=row.value_cents, choice_deadline=row.choice_deadline,
        profile=profile(row))


def approved(acc: AccreditationView | None, today: date) -> bool:
    return acc is not None and acc.state == "approved" and (
        acc.valid_until is None or acc.valid_until >= today)


def offering(row: OfferingRow, approved_: bool) -> OfferingView:
    return OfferingView(
        offering_id=row.offering_id, provider_id=row.provider_id, region=row.region,
        service_type=row.service_type, municipalities=tuple(row.municipalities),
        remote=row.remote, languages=tuple(row.languages),
        # an offering whose provider takes no new customers now has no place open to them
        open_places=0 if row.accepting_new_customers is False else max(
            0, row.capacity - row.taken), price_cents=row.unit_price_cents,
        next_start=row.next_start, approved=approved_ and row.status == "published")


def outcome_record(row: VoucherRow) -> OutcomeRecord | None:
    if row.started_on is None or row.provider_id is None:
        return None
    return OutcomeRecord(
        voucher_id=row.voucher_id, provider_id=row.provider_id,
        service_type=row.service_type, region=row.region, holder_kind=row.holder_kind,
        profile=profile(row), started_on=row.started_on, outcome=row.outcome)
