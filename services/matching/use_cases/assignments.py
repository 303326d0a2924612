"""Default assignment runs of a region, and admins' overrides.

A run takes the region's vouchers with no choice past their choice deadline, ranks each
voucher's candidates with the score (one ranking per class of vouchers that rank alike: same
service type, municipality, languages, remote preference and value), keeps the top K, and lets
``domain.assignment.solve`` place them under the offerings' open places and the providers' cap.
It records its inputs, seed, score version and every proposal, and writes the placed ones to
the outbox in the same transaction as ``assignment.proposals`` events of up to 500 proposals
each; the voucher service applies them. An override is kept: no later run changes its voucher."""

from __future__ import annotations

import hashlib
import random
import time
import uuid
from dataclasses import asdict
from typing import Any

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.events import EventPayload
from contracts.matching import (
    PROPOSALS_PER_EVENT,
    AssignmentProposals,
    AssignmentProposed,
    AssignmentRunFinished,
)
from contracts.principal import Principal
from kit import audit
from kit.db import Database
from kit.errors import Conflict, NotFound, Unprocessable
from kit.idempotency import Once, run_once
from kit.outbox import add_events
from services.matching import access, repository
from services.matching.domain.assignment import (
    AssignmentInput,
    Status,
    candidate_arrays,
    solve,
)
from services.matching.domain.score import SCORE_VERSION, recommend
from services.matching.domain.summary import summarise
from services.matching.domain.types import Ranked
from services.matching.models import (
    AssignmentOverride,
    AssignmentProposal,
    AssignmentRun,
    VoucherView,
    audit_log,
    plumbing,
)
from services.matching.schemas import OverrideIn, OverrideOut, RunIn, RunOut
from services.matching.settings import Settings
from services.matching.use_cases import views
from services.matching.use_cases.clock import now, today
from services.matching.use_cases.explain import explanation
from services.matching.use_cases.index import region_index

SYSTEM = "matching-schedule"


def _class_key(v: VoucherView) -> tuple[Any, ...]:
    return (v.service_type, v.home_municipality, tuple(v.languages), v.remote_suits,
            v.value_cents)


def _chunks(run_id: str, region: str, items: list[dict[str, Any]]
            ) -> list[tuple[EventPayload, str | None]]:
    """The run's proposals as ``assignment.proposals`` events of up to PROPOSALS_PER_EVENT."""
    return [(AssignmentProposals.model_validate(
        {"run_id": run_id, "region": region, "score_version": SCORE_VERSION, "chunk": c,
         "proposals": items[a:a + PROPOSALS_PER_EVENT]}), run_id)
        for c, a in enumerate(range(0, len(items), PROPOSALS_PER_EVENT))]


async def execute(s: AsyncSession, settings: Settings, extra: dict[str, Any], region: str,
                  seed: int, share_cap: float, actor: str) -> RunOut:
    """One run in the caller's transaction (committed by the caller)."""
    started = time.perf_counter()
    as_of = today()
    run_id = str(uuid.uuid4())
    vouchers = await repository.pending_vouchers(s, region, as_of)
    overrides = await repository.overrides_in(s, [v.voucher_id for v in vouchers])
    index = region_index(extra)
    # Candidates: one ranking per class of vouchers that rank alike.
    offering_ids: dict[str, int] = {}
    offering_provider: list[str] = []
    capacities: list[int] = []
    rankings: dict[tuple[Any, ...], tuple[Ranked, ...]] = {}
    k = settings.assignment_top_k
    for v in vouchers:
        key = _class_key(v)
        if key in rankings:
            continue
        bucket = await index.bucket(s, region, v.service_type, as_of)
        for o in bucket.offerings:
            if o.offering_id not in offering_ids:
                offering_ids[o.offering_id] = len(offering_provider)
                offering_provider.append(o.provider_id)
                capacities.append(o.open_places)
        rankings[key] = recommend(views.voucher(v), bucket.offerings, bucket.figures,
                                  bucket.ratings, today=as_of, rotation_key=seed, limit=k,
                                  rating_prior=bucket.rating_prior).ranked
    n = len(vouchers)
    keys = list(rankings)
    class_number = {key: c for c, key in enumerate(keys)}
    cand, scores = candidate_arrays([class_number[_class_key(v)] for v in vouchers],
                                    [rankings[key] for key in keys], offering_ids, k)
    fixed = np.full(n, -1, dtype=np.int64)
    for i, v in enumerate(vouchers):
        kept = overrides.get(v.voucher_id)
        if kept is not None and kept.offering_id in offering_ids:
            fixed[i] = offering_ids[kept.offering_id]
    providers = {p: i for i, p in enumerate(sorted(set(offering_provider)))}
    result = solve(AssignmentInput(
        candidates=cand, scores=scores, capacities=np.asarray(capacities, dtype=np.int64),
        offering_provider=np.asarray([providers[p] for p in offering_provider],
                                     dtype=np.int64),
        share_cap=share_cap, seed=seed, fixed=fixed))
    solved = time.perf_counter() - started
    # Outputs: a proposal row per voucher; the placed ones also in chunks of events.
    by_index = {i: o for o, i in offering_ids.items()}
    rows: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    factors: dict[tuple[Any, int], list[dict[str, Any]]] = {}  # shared within a class
    texts: dict[tuple[int, int], dict[str, Any]] = {}
    for i, v in enumerate(vouchers):
        o_i, rank, status = int(result.offering[i]), int(result.rank[i]), int(result.status[i])
        override = overrides.get(v.voucher_id)
        if o_i < 0:
            rows.append({"run_id": run_id, "voucher_id": v.voucher_id, "offering_id": None,
                         "provider_id": None, "rank": None, "score": None, "override": False,
                         "reason": Status(status).name})
            continue
        key = _class_key(v)
        ranked = rankings[key]
        r = ranked[rank] if 0 <= rank < len(ranked) else None
        if r is None or r.offering_id != by_index[o_i]:  # an override outside the top K
            assert override is not None
            r, key = Ranked(override.offering_id, override.provider_id, 0, ()), ()
        rows.append({"run_id": run_id, "voucher_id": v.voucher_id,
                     "offering_id": r.offering_id, "provider_id": r.provider_id,
                     "rank": rank + 1 if rank >= 0 else None, "score": float(r.score),
                     "override": override is not None, "reason": Status(status).name})
        shown = rank + 1 if rank >= 0 else 0
        if (key, rank) not in factors:
            factors[key, rank] = [{"factor": f.name, "value": f.value,
                                   "contribution": f.contribution} for f in r.factors]
        if (status, shown) not in texts:
            texts[status, shown] = explanation(status, shown).model_dump(exclude_none=True)
        items.append({"voucher_id": v.voucher_id, "service_type": v.service_type,
                      "offering_id": r.offering_id, "provider_id": r.provider_id,
                      "rank": shown, "score": float(r.score), "factors": factors[key, rank],
                      "override": override is not None, "explanation": texts[status, shown]})
    placed = int((result.offering >= 0).sum())
    summary = asdict(summarise(result, groups={
        "municipality": [v.home_municipality or "none" for v in vouchers],
        "language": [v.languages[0] if v.languages else "none" for v in vouchers],
        "holder_kind": [v.holder_kind for v in vouchers]}))
    summary |= {"objective": int(result.objective), "classes": int(result.classes),
                "solve_seconds": round(solved, 3)}
    digest = hashlib.sha256(cand.tobytes() + scores.tobytes()
                            + np.asarray(capacities, dtype=np.int64).tobytes()).hexdigest()
    inputs = {"vouchers": n, "offerings": len(capacities), "top_k": k, "share_cap": share_cap,
              "as_of": as_of.isoformat(), "overrides": len(overrides),
              "candidates_digest": digest}
    run = AssignmentRun(run_id=run_id, region=region, seed=seed, score_version=SCORE_VERSION,
                        status="finished", actor=actor, as_of=as_of, created_at=now(),
                        finished_at=now(), inputs=inputs, summary=summary)
    s.add(run)
    await s.flush()
    await repository.add_proposals(s, rows)
    events = _chunks(run_id, region, items)
    events.append((AssignmentRunFinished(
        run_id=run_id, region=region, seed=seed, score_version=SCORE_VERSION, vouchers=n,
        proposed=placed, unassigned=n - placed), run_id))
    await add_events(s, plumbing, events)
    return RunOut.model_validate(run, from_attributes=True)


async def start(db: Database, settings: Settings, extra: dict[str, Any], principal: Principal,
                body: RunIn, key: str | None) -> Once[RunOut]:
    region = access.admin_region(principal)
    share_cap = body.share_cap or settings.assignment_share_cap

    async def change(s: AsyncSession) -> RunOut:
        seed = body.seed if body.seed is not None else random.randrange(2**31)
        return await execute(s, settings, extra, region, seed, share_cap, principal.sub)

    return await run_once(db, plumbing, scope=f"{principal.sub}:POST /assignments", key=key,
                          payload=body.model_dump(mode="json"), change=change, answer=RunOut)


async def scheduled(db: Database, settings: Settings, extra: dict[str, Any]) -> int:
    """Run every region that has vouchers waiting (the schedule's job). Returns runs made."""
    async with db.reader() as s:
        regions = await repository.regions_waiting(s, today())
    for region in regions:
        async with db.session() as s:
            await execute(s, settings, extra, region, random.randrange(2**31),
                          settings.assignment_share_cap, SYSTEM)
            await s.commit()
    return len(regions)


async def read(db: Database, principal: Principal, run_id: str) -> RunOut:
    async with db.reader() as s:
        run = await repository.run(s, run_id)
    if run is None or not access.is_region_admin(principal, run.region):
        raise NotFound("no such assignment run")
    return RunOut.model_validate(run, from_attributes=True)


async def override(db: Database, principal: Principal, run_id: str, body: OverrideIn,
                   key: str | None) -> Once[OverrideOut]:
    """Set a voucher's assignment by hand, with a reason: kept by every later run, and sent to
    the voucher service as a proposal marked ``override``."""
    region = access.admin_region(principal)

    async def change(s: AsyncSession) -> OverrideOut:
        run = await repository.run(s, run_id)
        if run is None or run.region != region:
            raise NotFound("no such assignment run")
        v = await repository.voucher(s, body.voucher_id)
        if v is None or v.region != region:
            raise Unprocessable.field("voucher_id", "no such voucher in your region")
        if v.state not in ("issued", "chosen") or (
                v.state == "chosen" and v.chosen_by not in ("default_assignment", None)):
            raise Conflict("the voucher's provider was chosen by its holder or the service "
                           "has started", type="/problems/assignment-not-overridable")
        o = await repository.offering(s, body.offering_id)
        if o is None or o.region != region or o.service_type != v.service_type \
                or o.status != "published":
            raise Unprocessable.field("offering_id", "no such offering of the voucher's "
                                      "service type in your region")
        at = now()
        row = await s.get(AssignmentOverride, v.voucher_id)
        if row is None:
            row = AssignmentOverride(voucher_id=v.voucher_id)
            s.add(row)
        row.run_id, row.offering_id, row.provider_id = run_id, o.offering_id, o.provider_id
        row.reason, row.actor, row.created_at = body.reason, principal.sub, at
        await audit.record(s, audit_log, actor=principal, action="assignment.overridden",
                           subject_type="voucher", subject_id=v.voucher_id, reason=body.reason,
                           region=region, details={"run_id": run_id,
                                                   "offering_id": o.offering_id,
                                                   "provider_id": o.provider_id})
        p = await repository.proposal(s, run_id, v.voucher_id)
        if p is None:
            p = AssignmentProposal(run_id=run_id, voucher_id=v.voucher_id)
            s.add(p)
        p.offering_id, p.provider_id, p.rank, p.score = o.offering_id, o.provider_id, None, None
        p.override, p.reason = True, Status.fixed.name
        text = explanation(Status.fixed, None)
        await add_events(s, plumbing, [(AssignmentProposed(
            run_id=run_id, voucher_id=v.voucher_id, region=region, service_type=v.service_type,
            offering_id=o.offering_id, provider_id=o.provider_id, rank=0, score=0.0,
            score_version=run.score_version, override=True, explanation=text), v.voucher_id)])
        return OverrideOut(run_id=run_id, voucher_id=v.voucher_id, offering_id=o.offering_id,
                           provider_id=o.provider_id, reason=body.reason, explanation=text,
                           created_at=at)

    return await run_once(db, plumbing, scope=f"{principal.sub}:POST /assignments/{run_id}"
                          "/overrides", key=key, payload=body.model_dump(mode="json"),
                          change=change, answer=OverrideOut)
