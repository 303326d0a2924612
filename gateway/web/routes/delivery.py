"""Pages for a provider's staff about the service they give: the vouchers that chose us (start,
report milestones, complete, decline before the start), our claims with their status and
reason codes, and what has been paid."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from contracts.principal import Role
from gateway.web import reference
from gateway.web.client import ApiError, api_path
from gateway.web.context import Ctx, CtxDep
from gateway.web.forms import Form
from gateway.web.routes.listing import voucher_list

router = APIRouter(prefix="/staff")
STATES = ("chosen", "started", "completed")
CLAIM_STATUSES = ("submitted", "approved", "rejected", "paid")
OUTCOMES = ("employed", "studying")
DECLINES = ("no_capacity", "service_not_suitable", "holder_unreachable", "other")
ACTIONS = ("start", "milestone", "completion", "claim", "declination")
CLAIMS_READ = 1_000  # claims read for one voucher's page or the payments summary


def staff(ctx: Ctx) -> str:
    return ctx.own(Role.provider)


def labels(ctx: Ctx) -> dict[str, str]:
    """The fields of the page's forms, named ``<action>.<field>`` (one page, several forms)."""
    _ = ctx._
    evidence = _("Evidence (what shows it happened)")
    return {"start.evidence": evidence, "milestone.milestone": _("Milestone"),
            "milestone.outcome": _("Outcome"), "milestone.evidence": evidence,
            "claim.milestone": _("Milestone"), "claim.evidence": evidence,
            "completion.evidence": evidence, "declination.reason_code": _("Reason"),
            "declination.reason": _("Explanation")}


async def all_claims(ctx: Ctx, status: str | None = None) -> list[dict[str, Any]]:
    """Our claims (newest first as the API gives them), at most ``CLAIMS_READ``."""
    out: list[dict[str, Any]] = []
    cursor: str | None = None
    while len(out) < CLAIMS_READ:
        page = await ctx.api.get("/claims", {"status": status, "cursor": cursor, "limit": 200})
        out += page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    return out


@router.get("/vouchers")
async def our_vouchers(ctx: CtxDep) -> Response:
    staff(ctx)
    return await voucher_list(ctx, states=STATES, template="staff/vouchers.html",
                              back="/staff/vouchers")


async def render_voucher(ctx: Ctx, voucher_id: str, form: Form, *, action: str = "",
                         status: int = 200) -> HTMLResponse:
    pid = staff(ctx)
    v = await ctx.api.get(api_path("vouchers", voucher_id))
    if v.get("provider_id") != pid:
        raise ApiError(404, {"title": "Not Found"})
    claims = [c for c in await all_claims(ctx) if c["voucher_id"] == voucher_id]
    offering = None
    if v.get("offering_id"):
        try:
            offering = await ctx.api.get(api_path("offerings", v["offering_id"]))
        except ApiError as exc:
            if exc.status != 404:
                raise
    if not form.values.get("idempotency_key") or not form.ok:
        form.values["idempotency_key"] = str(uuid.uuid4())
    claimed = {c["milestone"] for c in claims if c["status"] != "rejected"}
    rejected = sorted({c["milestone"] for c in claims if c["status"] == "rejected"} - claimed)
    later = [m["code"] for m in v["payment_scheme"]
             if m["code"] not in ("start", "completion", *claimed)
             and (m["code"] != "outcome" or v["state"] == "completed")]
    return ctx.render("staff/voucher.html", status=status, v=v, claims=claims,
                      offering=offering, form=form, action=action, labels=labels(ctx),
                      later=later, rejected=rejected, outcomes=OUTCOMES, declines=DECLINES,
                      names=await reference.names(ctx),
                      done=ctx.request.query_params.get("done", ""))


@router.get("/vouchers/{voucher_id}")
async def voucher(voucher_id: str, ctx: CtxDep) -> HTMLResponse:
    return await render_voucher(ctx, voucher_id, Form())


@router.post("/vouchers/{voucher_id}/{action}")
async def act(voucher_id: str, action: str, ctx: CtxDep) -> Response:
    """Start, report a milestone, complete, claim again or decline: one form each."""
    form = Form.of(await ctx.request.form())
    ctx.check_csrf(form.values.get("csrf"))
    staff(ctx)
    if action not in ACTIONS:
        raise ApiError(404, {"title": "Not Found"})
    _ = ctx._

    def field(name: str) -> str:
        return form.get(f"{action}.{name}")

    body: dict[str, Any]
    if action in ("start", "completion"):
        body = {"evidence": field("evidence")}
        path = api_path("vouchers", voucher_id, action)
    elif action == "declination":
        body = {"reason_code": field("reason_code"), "reason": field("reason")}
        if body["reason_code"] not in DECLINES:
            form.error("declination.reason_code", _("Choose the reason."))
        elif body["reason_code"] == "other" and len(body["reason"]) < 3:
            form.error("declination.reason", _("Explain the reason."))
        path = api_path("vouchers", voucher_id, "declination")
    else:
        body = {"milestone": field("milestone"), "evidence": field("evidence")}
        if not body["milestone"]:
            form.error(f"{action}.milestone", _("Choose the milestone."))
        if body["milestone"] == "outcome":
            body["outcome"] = field("outcome") or None
            if body["outcome"] not in OUTCOMES:
                form.error(f"{action}.outcome", _("Choose the outcome."))
        if not body["evidence"]:
            form.error(f"{action}.evidence",
                       _("Tell what shows that the milestone was reached."))
        path = api_path("vouchers", voucher_id,
                        "milestones" if action == "milestone" else "claims")
    if form.ok and await ctx.submit(
            form, "POST", path, body, known=set(labels(ctx)),
            aliases={name: f"{action}.{name}" for name in body},
            headers={"idempotency-key": form.get("idempotency_key")},
            messages={409: (None, _("This cannot be done in the voucher's current state. "
                                    "The page now shows its current state."))}) is None:
        return ctx.redirect(f"/staff/vouchers/{voucher_id}", done=action)
    return await render_voucher(ctx, voucher_id, form, action=action, status=422)


@router.get("/claims")
async def our_claims(ctx: CtxDep) -> Response:
    staff(ctx)
    query = ctx.request.query_params
    status = query.get("status", "")
    if status not in CLAIM_STATUSES:
        status = ""
    cursor = query.get("cursor", "")[:600] or None
    try:
        result = await ctx.api.get("/claims", {"status": status or None, "cursor": cursor,
                                               "limit": 50})
    except ApiError as exc:
        if exc.status != 422:
            raise
        return ctx.redirect("/staff/claims")
    return ctx.render("staff/claims.html", result=result, status_filter=status,
                      statuses=CLAIM_STATUSES, names=await reference.names(ctx))


@router.get("/payments")
async def payments(ctx: CtxDep) -> HTMLResponse:
    """What the region has paid us, by payment batch, and what is approved and waiting."""
    staff(ctx)
    paid = await all_claims(ctx, "paid")
    approved = await all_claims(ctx, "approved")
    batches: dict[str, dict[str, Any]] = {}
    for c in paid:
        b = batches.setdefault(c["payment_batch_id"] or "", {"id": c["payment_batch_id"],
                                                             "claims": 0, "cents": 0,
                                                             "at": c["decided_at"]})
        b["claims"] += 1
        b["cents"] += c["amount_cents"]
    return ctx.render("staff/payments.html", batches=list(batches.values()),
                      paid_cents=sum(c["amount_cents"] for c in paid),
                      waiting_cents=sum(c["amount_cents"] for c in approved),
                      waiting=approved, truncated=len(paid) >= CLAIMS_READ)
