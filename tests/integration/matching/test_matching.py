"""The matching service on one running stack (registry, voucher service, matching, broker):
recommendations for the holder and the region's admin only; default assignment reproducible by
its seed, overrides kept by later runs, proposals applied by the voucher service; no figure
below 18 participants; the read models rebuilt from the streams equal the live ones."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select

from contracts.principal import Principal, Role
from services.matching import rebuild
from services.matching.models import (
    AssignmentProposal,
    OfferingView,
    RatingView,
    VoucherView,
    metadata,
)
from services.matching.use_cases.clock import today as finnish_today
from services.voucher.models import Voucher
from tests.integration.matching.conftest import HETU, OTHER_HETU, Town
from tests.support import eventually, service_settings

TOMORROW = finnish_today() + timedelta(days=1)  # deadlines are Finnish dates
READ_MODELS = ("provider_view", "accreditation_view", "offering_view", "voucher_view",
               "rating_view")


async def test_recommendations_for_the_holder_and_the_regions_admin_only(town: Town) -> None:
    voucher = town.vouchers[HETU]
    path = f"/recommendations/{voucher}"
    r = await town.client.get(path, headers=town.citizen(HETU))
    assert r.status_code == 200, r.text
    body = r.json()
    ranked = {i["offering_id"] for i in body["items"]}
    assert ranked == {town.offerings["local"], town.offerings["remote"]}
    for item in body["items"]:
        assert sum(f["contribution"] for f in item["factors"]) == item["score"]
        assert item["provider_name"]
    assert body["excluded_by_reason"] == {"wrong_language": 1, "full": 1}
    assert {(e["offering_id"], e["reason"]) for e in body["excluded"]} == {
        (town.offerings["swedish"], "wrong_language"), (town.offerings["closed"], "full")}
    assert (await town.client.get(path, headers=town.admin())).status_code == 200
    refused = [
        town.citizen(OTHER_HETU), town.admin("pohjois-pohjanmaa"),
        town.staff(town.providers["local"]),
        town.auth(Principal(sub="c", role=Role.citizen, person_key="0" * 64)),
    ]
    missing = await town.client.get(f"/recommendations/{uuid.uuid4()}", headers=town.admin())
    assert missing.status_code == 404
    for headers in refused:
        r = await town.client.get(path, headers=headers)
        assert r.status_code == 404, r.text
        assert r.json()["detail"] == missing.json()["detail"]
    assert (await town.client.get(path)).status_code == 401


async def test_the_ranking_is_paged_by_the_service_in_one_order_per_voucher(
        town: Town) -> None:
    """Pages of one continue each other (the ranked, then the excluded), asked again they are
    the same, and the counts cover the whole ranking on every page."""
    path = f"/recommendations/{town.vouchers[HETU]}"
    whole = (await town.client.get(path, headers=town.citizen(HETU))).json()
    assert (whole["offset"], whole["limit"]) == (0, 20)
    expected = [i["offering_id"] for i in whole["items"]] + [
        e["offering_id"] for e in whole["excluded"]]
    assert len(expected) == 4
    seen = []
    for offset in range(5):
        r = await town.client.get(path, params={"limit": 1, "offset": offset},
                                  headers=town.citizen(HETU))
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["eligible_count"], body["excluded_count"]) == (2, 2)
        assert [i["rank"] for i in body["items"]] == ([offset + 1] if offset < 2 else [])
        seen += [i["offering_id"] for i in body["items"]] + [
            e["offering_id"] for e in body["excluded"]]
    assert seen == expected
    again = (await town.client.get(path, headers=town.citizen(HETU))).json()
    assert again["items"] == whole["items"]
    r = await town.client.get(path, params={"offset": -1}, headers=town.citizen(HETU))
    assert r.status_code == 422


async def proposals(town: Town, run_id: str) -> dict[str, tuple[str | None, bool]]:
    async with town.db.reader() as s:
        rows = (await s.scalars(select(AssignmentProposal).where(
            AssignmentProposal.run_id == run_id))).all()
    return {p.voucher_id: (p.offering_id, p.override) for p in rows}


async def run(town: Town, seed: int, key: str | None = None) -> dict[str, Any]:
    headers = town.admin() | ({"Idempotency-Key": key} if key else {})
    r = await town.client.post("/assignments", json={"seed": seed}, headers=headers)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_default_assignment_is_reproducible_keeps_overrides_and_is_applied(
    town: Town, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tomorrow for matching only: the voucher service still holds the deadline open and
    # leaves the first runs' proposals unapplied (so the vouchers stay waiting).
    monkeypatch.setattr("services.matching.use_cases.assignments.today", lambda: TOMORROW)
    first = await run(town, 7, key="run-7")
    again = await run(town, 7, key="run-7")
    assert again["run_id"] == first["run_id"]  # Idempotency-Key: the same run
    second = await run(town, 7)
    assert second["run_id"] != first["run_id"] and second["seed"] == 7
    assert first["summary"]["vouchers"] == len(town.vouchers)
    assert first["summary"]["placed"] == len(town.vouchers)
    assert first["summary"]["disparity"]["language"][0]["label"] == "fi"
    assert await proposals(town, first["run_id"]) == await proposals(town, second["run_id"])
    assert first["inputs"]["candidates_digest"] == second["inputs"]["candidates_digest"]
    got = await town.client.get(f"/assignments/{first['run_id']}", headers=town.admin())
    assert got.status_code == 200 and got.json()["summary"] == first["summary"]

    # An override, with a reason, to the offering the run did not propose
    voucher = town.vouchers[OTHER_HETU]
    proposed = (await proposals(town, first["run_id"]))[voucher][0]
    other = next(o for n, o in town.offerings.items() if n != "swedish" and o != proposed)
    r = await town.client.post(f"/assignments/{first['run_id']}/overrides",
                               json={"voucher_id": voucher, "offering_id": other,
                                     "reason": "the holder asked by phone"},
                               headers=town.admin())
    assert r.status_code == 201, r.text
    assert r.json()["explanation"]["fi"]
    for seed in (8, 9):
        later = await run(town, seed)
        assert (await proposals(town, later["run_id"]))[voucher] == (other, True)

    # The voucher service's deadline passes too: the next run's proposals are applied.
    monkeypatch.setattr("services.voucher.use_cases.assignments.today", lambda: TOMORROW)
    final = await run(town, 10)
    wanted = await proposals(town, final["run_id"])

    async def applied() -> bool:
        async with town.market.db.reader() as s:
            vs = {v.id: v for v in (await s.scalars(select(Voucher).where(
                Voucher.id.in_(list(wanted))))).all()}
        return all(vs[vid].offering_id == o and vs[vid].chosen_by == "default_assignment"
                   for vid, (o, _) in wanted.items())

    await eventually(applied, timeout=30, what="proposals applied by the voucher service")
    assert wanted[voucher] == (other, True)
    # Applied vouchers have a provider: once matching has seen that, a run has nothing to do.

    async def seen_chosen() -> bool:
        async with town.db.reader() as s:
            rows = (await s.scalars(select(VoucherView).where(
                VoucherView.voucher_id.in_(list(wanted))))).all()
        return all(r.state == "chosen" for r in rows)

    await eventually(seen_chosen, what="the choices in matching's read model")
    assert (await run(town, 11))["summary"]["vouchers"] == 0


async def test_below_18_participants_no_figure_is_shown(town: Town) -> None:
    region = "statistics-test"
    started = finnish_today() - timedelta(days=200)
    rows = []
    for provider, starts, employed in (("p-small", 10, 6), ("p-large", 40, 20),
                                       ("p-other", 40, 16)):
        for i in range(starts):
            rows.append(VoucherView(
                voucher_id=f"synthetic-{provider}-{i}", version=9, state="completed",
                region=region, service_type="job-search-coaching", holder_kind="person",
                holder_ref=None, home_municipality="837", languages=["fi"], remote_suits=True,
                profile={"unemployment": ["under_3_months", "over_24_months"][i % 2],
                         "education": "basic", "earlier_services": "none"},
                value_cents=100_000, valid_until=started + timedelta(days=365),
                choice_deadline=started, provider_id=provider, offering_id=None,
                started_on=started, completed_on=started + timedelta(days=60),
                outcome="employed" if i < employed else "not_achieved"))
    async with town.db.session() as s:
        s.add_all(rows)
        await s.commit()
    try:
        r = await town.client.post("/statistics/publications", headers=town.admin())
        assert r.status_code == 201, r.text
        r = await town.client.get("/statistics", params={"region": region})
        assert r.status_code == 200
        figures = {f["provider_id"]: f for f in r.json()["items"]}
        small = figures["p-small"]
        assert small["too_few_participants"] is True
        assert all(small[k] is None for k in ("starts", "actual_rate", "expected_rate",
                                              "ratio", "ratio_low", "ratio_high"))
        large = figures["p-large"]
        assert large["too_few_participants"] is False and large["starts"] == 40
        assert large["ratio_low"] <= large["ratio"] <= large["ratio_high"]
        r = await town.client.get("/statistics", params={
            "region": region, "provider_id": ["p-large", "p-small", "p-unknown"]})
        assert {f["provider_id"] for f in r.json()["items"]} == {"p-large", "p-small"}
        assert (await town.client.get("/statistics/creaming", params={"region": region},
                                      headers=town.admin())).status_code == 403
        assert (await town.client.get("/statistics/creaming",
                                      headers=town.citizen())).status_code == 403
        assert (await town.client.get("/statistics/creaming",
                                      headers=town.admin())).status_code == 200
    finally:
        async with town.db.session() as s:
            await s.execute(delete(VoucherView).where(VoucherView.region == region))
            await s.commit()


async def test_ratings_are_counted_and_a_mean_is_shown_from_three(town: Town) -> None:
    region = "ratings-test"
    rows = [RatingView(voucher_id=f"rated-{pid}-{i}", provider_id=pid, offering_id="o",
                       region=region, service_type="job-search-coaching", stars=stars)
            for pid, all_stars in (("p-few", (5, 1)), ("p-many", (5, 4, 4)))
            for i, stars in enumerate(all_stars)]
    async with town.db.session() as s:
        s.add_all(rows)
        await s.commit()
    try:
        r = await town.client.get("/statistics/ratings", params={"region": region})
        assert r.status_code == 200, r.text
        assert r.json()["min_count"] == 3
        got = {i["provider_id"]: (i["count"], i["mean"]) for i in r.json()["items"]}
        assert got == {"p-few": (2, None), "p-many": (3, 4.3)}
        r = await town.client.get("/statistics/ratings",
                                  params={"region": region, "service_type": "career-guidance"})
        assert r.json()["items"] == []
        r = await town.client.get("/statistics/ratings",
                                  params={"region": region, "provider_id": "p-many"})
        assert [i["provider_id"] for i in r.json()["items"]] == ["p-many"]
        assert (await town.client.get("/statistics/ratings")).status_code == 422
        for wrong in (["p"] * 51, ["x" * 37]):  # bounded: at most 50 ids of 36 characters
            r = await town.client.get("/statistics/ratings",
                                      params={"region": region, "provider_id": wrong})
            assert r.status_code == 422
            assert r.json()["errors"][0]["field"].startswith("provider_id")
    finally:
        async with town.db.session() as s:
            await s.execute(delete(RatingView).where(RatingView.region == region))
            await s.commit()


async def snapshot(db: Any) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    async with db.reader() as s:
        for name in READ_MODELS:
            table = metadata.tables[name]
            rows = (await s.execute(select(table))).all()
            out[name] = sorted(tuple(r) for r in rows)
    return out


async def test_read_models_rebuilt_from_the_streams_equal_the_live_ones(town: Town) -> None:
    await town.settled()
    live = await snapshot(town.db)
    assert live["voucher_view"] and live["offering_view"]
    async with town.db.reader() as s:
        taken = {o.offering_id: o.taken for o in (await s.scalars(select(OfferingView))).all()}
    assert sum(taken.values()) == len(town.vouchers)  # the applied default assignments
    target = town.factory.new("matching_rebuilt")
    settings = service_settings(type(town.settings), target, town.nats_url)
    read = await rebuild.rebuild(settings)
    assert read["matching-from-voucher"] > 0 and read["matching-from-registry"] > 0
    from kit.db import Database

    db = Database(target.url, schema=target.schema)
    try:
        assert await snapshot(db) == live
    finally:
        await db.dispose()
