"""What the journeys need done by the others involved, through the public API with the dev
login's bearer tokens: a region admin opens a budget and issues a voucher to a demo citizen,
the provider starts and completes it, and so on; and earlier customers' outcomes and ratings,
written into matching's read model as if they had happened a month ago."""

from __future__ import annotations

import time
import uuid
from datetime import date, timedelta
from typing import Any

import httpx

from tests.webstack import WebStack

MAIJA = "010280-952L"  # the demo citizen "citizen-maija"


class Actor:
    """One person's bearer token against the gateway's ``/api/v1``."""

    def __init__(self, stack: WebStack, **who: str) -> None:
        self.base = stack.url + "/api/v1"
        r = httpx.post(stack.url + "/auth/dev-token", json=who, timeout=15)
        assert r.status_code == 200, r.text
        self.headers = {"Authorization": f"Bearer {r.json()['access_token']}"}

    def call(self, method: str, path: str, body: Any = None, **kw: Any) -> httpx.Response:
        headers = {**self.headers, "Idempotency-Key": str(uuid.uuid4()), **kw.pop("headers", {})}
        return httpx.request(method, self.base + path, json=body, headers=headers, timeout=30,
                             **kw)

    def ok(self, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        r = self.call(method, path, body, **kw)
        assert r.is_success, (path, r.status_code, r.text)
        return r.json() if r.content else None

    def until_ok(self, method: str, path: str, body: Any = None, *, seconds: float = 20
                 ) -> Any:
        """Retried while the service's read models catch up with the registry's events."""
        deadline = time.monotonic() + seconds
        while True:
            r = self.call(method, path, body)
            if r.is_success or time.monotonic() > deadline:
                assert r.is_success, (path, r.status_code, r.text)
                return r.json()
            time.sleep(0.3)


def admin(stack: WebStack, region: str = "pirkanmaa") -> Actor:
    return Actor(stack, user=f"admin-{region}")


def staff(stack: WebStack, provider_id: str) -> Actor:
    return Actor(stack, role="provider", provider_id=provider_id)


def budget(region_admin: Actor, service_type: str, euros: int = 100_000) -> dict[str, Any]:
    """The region's open budget for ``service_type`` (opened now if there is none)."""
    for b in region_admin.ok("GET", "/budgets", params={"limit": 200})["items"]:
        if b["service_type"] == service_type and b["status"] == "open":
            return dict(b)
    today = date.today()
    return dict(region_admin.until_ok("POST", "/budgets", {
        "service_type": service_type, "period_start": today.replace(month=1, day=1).isoformat(),
        "period_end": (today + timedelta(days=365)).isoformat(),
        "funders": [{"funder": "region", "amount_cents": euros * 100 * 3 // 4},
                    {"funder": "837", "amount_cents": euros * 100 // 4}]}))


def issue(region_admin: Actor, budget_id: str, hetu: str = MAIJA, cents: int = 60_000
          ) -> dict[str, Any]:
    return dict(region_admin.ok("POST", "/vouchers", {
        "budget_id": budget_id, "value_cents": cents, "home_municipality": "837",
        "languages": ["fi"], "holder": {"kind": "person", "henkilotunnus": hetu}}))


def offerings(stack: WebStack, region: str, service_type: str) -> list[dict[str, Any]]:
    r = httpx.get(stack.url + "/api/v1/offerings", timeout=15,
                  params={"region": region, "service_type": service_type, "limit": 50})
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


def earlier_customers(stack: WebStack, offerings: list[dict[str, Any]]) -> None:
    """Earlier customers written into matching's read model (started a month ago, so inside
    the statistics window, which a voucher started today is not): three with the first
    offering's provider, an outcome each; then the region publishes its statistics. Ratings:
    two of the first provider (too few for an average), three of the second."""
    from sqlalchemy import create_engine, insert

    from services.matching.models import RatingView, VoucherView

    url = stack.services["matching"].env["MATCHING_DATABASE_URL"].replace("+aiosqlite", "")
    started = date.today() - timedelta(days=30)
    first = offerings[0]
    second = next(o for o in offerings if o["provider_id"] != first["provider_id"])
    tag = uuid.uuid4().hex[:8]
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(insert(VoucherView), [dict(
            voucher_id=f"earlier-{tag}-{i}", version=9, state="completed", region="pirkanmaa",
            service_type="career-guidance", holder_kind="person", holder_ref=None,
            home_municipality="837", languages=["fi"], remote_suits=True,
            profile={"unemployment": "under_3_months", "education": "basic",
                     "earlier_services": "none"},
            value_cents=60_000, valid_until=started + timedelta(days=365),
            choice_deadline=started, provider_id=first["provider_id"],
            offering_id=first["id"], started_on=started,
            completed_on=started + timedelta(days=10),
            outcome=["employed", "not_achieved", "studying"][i]) for i in range(3)])
        conn.execute(insert(RatingView), [dict(
            voucher_id=f"rated-{tag}-{i}", provider_id=o["provider_id"], offering_id=o["id"],
            region="pirkanmaa", service_type="career-guidance", stars=stars)
            for i, (o, stars) in enumerate([(first, 5), (first, 3), (second, 4), (second, 5),
                                            (second, 4)])])
    engine.dispose()
    admin(stack).ok("POST", "/statistics/publications")
