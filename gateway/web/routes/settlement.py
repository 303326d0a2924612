"""Pages for a region's admins about paying providers: the queue of claims (approve, or reject
with a reason code), and payment batches (make one of the approved claims, download its file
for the payment system, confirm it was paid or tell that it failed)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from contracts.principal import Role
from gateway.web import reference
from gateway.web.client import ApiError, api_path
from gateway.web.context import Ctx, CtxDep
from gateway.web.downloads import SAFE_FILENAME
from gateway.web.forms import Form

router = APIRouter(prefix="/admin")
STATUSES = ("submitted", "approved", "rejected", "paid")
REJECTIONS = ("evidence_missing", "evidence_insufficient", "milestone_not_reached",
              "outcome_not_verified", "service_not_as_offered", "holder_not_served", "other")


def region_of(ctx: Ctx) -> str:
    return ctx.own(Role.region_admin)


async def provider_names(ctx: Ctx, ids: set[str]) -> dict[str, str]:
    names: dict[str, str] = {}
    for pid in sorted(ids):
        try:
            names[pid] = (await ctx.api.get(api_path("providers", pid)))["legal_name"]
        except ApiError as exc:
            if exc.status != 404:
                raise
    return names


@router.get("/claims")
async def claims(ctx: CtxDep) -> Response:
    region_of(ctx)
    query = ctx.request.query_params
    status = query.get("status", "submitted")
    if status not in STATUSES:
        status = "submitted"
    cursor = query.get("cursor", "")[:600] or None
    try:
        result = await ctx.api.get("/claims", {"status": status, "cursor": cursor,
                                               "limit": 50})
    except ApiError as exc:
        if exc.status != 422:
            raise
        return ctx.redirect("/admin/claims", status=status)
    providers = await provider_names(ctx, {c["provider_id"] for c in result["items"]})
    return ctx.render("admin/claims.html", result=result, status_filter=status,
                      statuses=STATUSES, providers=providers, names=await reference.names(ctx),
                      done=query.get("done", ""))


def decision_labels(ctx: Ctx) -> dict[str, str]:
    _ = ctx._
    return {"decision": _("Decision"), "reason_code": _("Reason for rejecting"),
            "reason": _("Explanation")}


async def render_claim(ctx: Ctx, claim_id: str, form: Form, *,
                       status: int = 200) -> HTMLResponse:
    region_of(ctx)
    claim = await ctx.api.get(api_path("claims", claim_id))
    voucher = await ctx.api.get(api_path("vouchers", claim["voucher_id"]))
    providers = await provider_names(ctx, {claim["provider_id"]})
    if not form.values.get("idempotency_key") or not form.ok:
        form.values["idempotency_key"] = str(uuid.uuid4())
    return ctx.render("admin/claim.html", status=status, c=claim, v=voucher, form=form,
                      provider=providers.get(claim["provider_id"], claim["provider_id"]),
                      rejections=REJECTIONS, labels=decision_labels(ctx),
                      names=await reference.names(ctx))


@router.get("/claims/{claim_id}")
async def claim(claim_id: str, ctx: CtxDep) -> HTMLResponse:
    return await render_claim(ctx, claim_id, Form())


@router.post("/claims/{claim_id}")
async def decide(claim_id: str, ctx: CtxDep) -> Response:
    form = Form.of(await ctx.request.form())
    ctx.check_csrf(form.values.get("csrf"))
    region_of(ctx)
    _ = ctx._
    body: dict[str, Any] = {"decision": form.get("decision"), "reason": form.get("reason")}
    if body["decision"] not in ("approve", "reject"):
        form.error("decision", _("Choose a decision."))
    if body["decision"] == "reject":
        body["reason_code"] = form.get("reason_code")
        if body["reason_code"] not in REJECTIONS:
            form.error("reason_code", _("Choose the reason for rejecting."))
        elif body["reason_code"] == "other" and len(body["reason"]) < 3:
            form.error("reason", _("Explain the reason."))
    if form.ok and await ctx.submit(
            form, "POST", api_path("claims", claim_id, "decision"), body,
            headers={"idempotency-key": form.get("idempotency_key")},
            known=set(decision_labels(ctx)),
            messages={409: (None, _("This claim has been decided already."))}) is None:
        return ctx.redirect("/admin/claims", done=body["decision"])
    return await render_claim(ctx, claim_id, form, status=422)


# ---------------------------------------------------------------------- payments


@router.get("/payments")
async def payments(ctx: CtxDep) -> Response:
    region_of(ctx)
    cursor = ctx.request.query_params.get("cursor", "")[:600] or None
    try:
        result = await ctx.api.get("/payments", {"cursor": cursor, "limit": 50})
    except ApiError as exc:
        if exc.status != 422:
            raise
        return ctx.redirect("/admin/payments")
    waiting = await ctx.api.get("/claims", {"status": "approved", "limit": 200})
    return ctx.render("admin/payments.html", result=result, waiting=waiting["items"],
                      more_waiting=bool(waiting.get("next_cursor")),
                      key=str(uuid.uuid4()), done=ctx.request.query_params.get("done", ""))


@router.post("/payments")
async def make_batch(ctx: CtxDep) -> Response:
    form = Form.of(await ctx.request.form())
    ctx.check_csrf(form.values.get("csrf"))
    region_of(ctx)
    try:
        reply = await ctx.api.send("POST", "/payments",
                                   headers={"idempotency-key": form.get("idempotency_key")})
    except ApiError as exc:
        if exc.status != 409:
            raise
        return ctx.redirect("/admin/payments", done="nothing")
    return ctx.redirect(f"/admin/payments/{reply.data['id']}", done="made")


@router.get("/payments/{batch_id}")
async def batch(batch_id: str, ctx: CtxDep) -> Response:
    region_of(ctx)
    path = api_path("payments", batch_id)
    if ctx.request.query_params.get("format") == "csv":
        reply = await ctx.api.send("GET", path, params={"format": "csv"})
        name = SAFE_FILENAME.sub("-", f"payments-{batch_id}.csv")
        return Response(b"\xef\xbb\xbf" + reply.content.removeprefix(b"\xef\xbb\xbf"),
                        media_type="text/csv; charset=utf-8",
                        headers={"content-disposition": f'attachment; filename="{name}"',
                                 "cache-control": "no-store"})
    return await render_batch(ctx, batch_id, Form())


async def render_batch(ctx: Ctx, batch_id: str, form: Form, *,
                       status: int = 200) -> HTMLResponse:
    b = await ctx.api.get(api_path("payments", batch_id))
    providers = await provider_names(ctx, {line["provider_id"] for line in b["lines"]})
    if not form.values.get("idempotency_key") or not form.ok:
        form.values["idempotency_key"] = str(uuid.uuid4())
    return ctx.render("admin/payment.html", status=status, b=b, providers=providers,
                      form=form, labels={"reason": ctx._("Why the payment failed")},
                      names=await reference.names(ctx),
                      done=ctx.request.query_params.get("done", ""))


@router.post("/payments/{batch_id}/{outcome}")
async def settle(batch_id: str, outcome: str, ctx: CtxDep) -> Response:
    """``confirmation``: the region's payment system paid the batch; ``failure``: it did not."""
    form = Form.of(await ctx.request.form())
    ctx.check_csrf(form.values.get("csrf"))
    region_of(ctx)
    _ = ctx._
    if outcome not in ("confirmation", "failure"):
        raise ApiError(404, {"title": "Not Found"})
    body = None
    if outcome == "failure":
        body = {"reason": form.get("reason")}
        if len(body["reason"]) < 3:
            form.error("reason", _("Write why the payment failed (at least 3 characters)."))
    if form.ok and await ctx.submit(
            form, "POST", api_path("payments", batch_id, outcome), body,
            headers={"idempotency-key": form.get("idempotency_key")}, known={"reason"},
            messages={409: (None, _("This batch has been settled already."))}) is None:
        return ctx.redirect(f"/admin/payments/{batch_id}", done=outcome)
    return await render_batch(ctx, batch_id, form, status=422)
