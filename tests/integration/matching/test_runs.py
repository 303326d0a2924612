"""Reading default-assignment runs: the region's runs newest first, a run's proposals with
their explanations, a voucher's latest assignment for its holder, and the region admins' view
of the dead letters (metadata only) — each refused alike to everyone else, with cursors that
only the list that made them accepts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.exc import DBAPIError

from services.matching.models import audit_log, plumbing
from tests.integration.matching.conftest import HETU, OTHER_HETU, Town, finnish_today

TOMORROW = finnish_today() + timedelta(days=1)  # deadlines are Finnish dates


async def start(town: Town, seed: int) -> dict[str, Any]:
    r = await town.client.post("/assignments", json={"seed": seed}, headers=town.admin())
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_runs_proposals_and_a_vouchers_assignment(
    town: Town, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("services.matching.use_cases.assignments.today", lambda: TOMORROW)
    made = [await start(town, seed) for seed in (21, 22, 23)]
    # newest first, one a page, each page's cursor leading to the next
    seen: list[str] = []
    cursor = None
    while True:
        r = await town.client.get("/assignments", params={"limit": 1} | (
            {"cursor": cursor} if cursor else {}), headers=town.admin())
        assert r.status_code == 200, r.text
        seen += [i["run_id"] for i in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if not cursor:
            break
    mine = [m["run_id"] for m in made]
    assert [s for s in seen if s in mine] == mine[::-1]
    first_page = (await town.client.get("/assignments", headers=town.admin())).json()
    assert first_page["items"][0]["summary"] == made[-1]["summary"]
    # another region's admin sees none of them; other roles may not list
    other = await town.client.get("/assignments", headers=town.admin("pohjois-pohjanmaa"))
    assert other.status_code == 200 and not set(mine) & {
        i["run_id"] for i in other.json()["items"]}
    assert (await town.client.get("/assignments", headers=town.citizen())).status_code == 403
    assert (await town.client.get("/assignments")).status_code == 401

    run_id = made[-1]["run_id"]
    path = f"/assignments/{run_id}/proposals"
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        r = await town.client.get(path, params={"limit": 3} | (
            {"cursor": cursor} if cursor else {}), headers=town.admin())
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if not cursor:
            break
    assert {i["voucher_id"] for i in items} == set(town.vouchers.values())
    assert [i["voucher_id"] for i in items] == sorted(i["voucher_id"] for i in items)
    for i in items:
        assert i["explanation"]["fi"] and i["explanation"]["sv"] and i["explanation"]["en"]
        assert i["offering_id"] is None or (i["provider_name"] and i["offering_title"]["fi"])
        assert i["holder_kind"] == "person"
    # a cursor of another list, a forged one, and a changed one are refused before any query
    runs_cursor = (await town.client.get("/assignments", params={"limit": 1},
                                         headers=town.admin())).json()["next_cursor"]
    for bad in (runs_cursor, "eyJ2b3VjaGVyX2lkIjoiMSJ9.AAAA", "x" * 500):
        r = await town.client.get(path, params={"cursor": bad}, headers=town.admin())
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "cursor", r.text
    r = await town.client.get("/assignments", params={"limit": 1000}, headers=town.admin())
    assert r.status_code == 422
    # a stranger's answer is the answer for a run that does not exist
    missing = await town.client.get(f"/assignments/{uuid.uuid4()}/proposals",
                                    headers=town.admin())
    assert missing.status_code == 404
    for headers in (town.admin("pohjois-pohjanmaa"), town.citizen(),
                    town.staff(town.providers["local"])):
        r = await town.client.get(path, headers=headers)
        assert r.status_code == 404 and r.json()["detail"] == missing.json()["detail"]

    # an override shows as set by an admin, with the reason, in the next run's proposals
    voucher = town.vouchers[OTHER_HETU]
    r = await town.client.post(f"/assignments/{run_id}/overrides", json={
        "voucher_id": voucher, "offering_id": town.offerings["remote"],
        "reason": "asked at the service point"}, headers=town.admin())
    assert r.status_code == 201, r.text
    async with town.db.reader() as s:  # audited, append-only
        entries = (await s.execute(select(audit_log).where(
            audit_log.c.subject_id == voucher))).mappings().all()
    assert [(e["action"], e["reason"], e["region"], e["details"]["run_id"])
            for e in entries] == [("assignment.overridden", "asked at the service point",
                                   "pirkanmaa", run_id)]
    with pytest.raises(DBAPIError):
        async with town.db.session() as s:
            await s.execute(update(audit_log).values(reason="changed"))
            await s.commit()
    later = await start(town, 24)
    got = (await town.client.get(f"/assignments/{later['run_id']}/proposals",
                                 params={"limit": 200}, headers=town.admin())).json()
    row = next(i for i in got["items"] if i["voucher_id"] == voucher)
    assert row["override"] and row["status"] == "fixed"
    assert row["override_reason"] == "asked at the service point"
    assert row["offering_id"] == town.offerings["remote"]

    # the holder reads their voucher's latest assignment; nobody else does
    mine_path = f"/recommendations/{voucher}/assignment"
    r = await town.client.get(mine_path, headers=town.citizen(OTHER_HETU))
    assert r.status_code == 200, r.text
    assert r.json()["run_id"] == later["run_id"] and r.json()["override"]
    assert "reason" not in r.json() and "override_reason" not in r.json()
    assert (await town.client.get(mine_path, headers=town.admin())).status_code == 200
    nobody = await town.client.get(f"/recommendations/{uuid.uuid4()}/assignment",
                                   headers=town.admin())
    assert nobody.status_code == 404
    for headers in (town.citizen(HETU), town.admin("pohjois-pohjanmaa"),
                    town.staff(town.providers["remote"])):
        r = await town.client.get(mine_path, headers=headers)
        assert r.status_code == 404, r.text


async def test_dead_letters_for_region_admins_are_metadata_only(town: Town) -> None:
    payload = ('{"id": "e1", "type": "fi.seteli.voucher.voucher.issued.v1", '
               '"time": "2026-11-01T10:00:00+00:00", "data": {"hetu": "010280-952L", '
               '"holder_ref": "' + "ab" * 32 + '"}}')
    error = ("IntegrityError: duplicate key for 010280-952L and " + "cd" * 32
             + " [SQL: INSERT INTO voucher_view VALUES ('secret')]\nDETAIL: more")
    async with town.db.session() as s:
        for n in range(3):
            await s.execute(insert(plumbing.dead_letter).values(
                consumer="matching-from-voucher", event_id=f"dead-{n}-{uuid.uuid4()}",
                subject="seteli.voucher.v1.voucher.issued", deliveries=5,
                error=error if n else "x" * 5000, payload=payload if n else "not json",
                created_at=datetime.now(UTC)))
        await s.commit()
    path = "/dead-letters/matching"
    r = await town.client.get(path, params={"limit": 2}, headers=town.admin())
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["items"]) == 2 and body["next_cursor"]
    newest = body["items"][0]
    assert newest["error_class"] == "IntegrityError"
    assert newest["event_type"] == "fi.seteli.voucher.voucher.issued.v1"
    assert newest["event_time"].startswith("2026-11-01")
    assert newest["service"] == "matching" and newest["deliveries"] == 5
    text = r.text
    for secret in ("010280-952L", "ab" * 32, "cd" * 32, "secret", "DETAIL", "payload"):
        assert secret not in text
    r = await town.client.get(path, params={"cursor": body["next_cursor"]},
                              headers=town.admin("pohjois-pohjanmaa"))
    assert r.status_code == 200
    oldest = r.json()["items"][-1]
    assert len(oldest["error"]) <= 200 and oldest["event_type"] is None
    # other roles may not; cursors are this list's only; the operators' list keeps payloads
    assert (await town.client.get(path, headers=town.citizen())).status_code == 403
    assert (await town.client.get(path, headers=town.staff(
        town.providers["local"]))).status_code == 403
    assert (await town.client.get(path)).status_code == 401
    r = await town.client.get(path, params={"cursor": "forged.AAAA"}, headers=town.admin())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "cursor"
    ops = await town.client.get("/ops/dead-letters", params={"cursor": body["next_cursor"]})
    assert ops.status_code == 422  # another list's cursor
    assert (await town.client.get("/dead-letters/voucher", headers=town.admin())
            ).status_code == 404
