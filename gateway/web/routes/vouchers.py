"""Pages for a voucher's holder: my vouchers, one voucher (what to do next, its history, the
rating after completion), and the comparison of the offerings it can be used for, where the
holder chooses a provider and changes it before the service starts."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from contracts.principal import Role
from gateway.web import reference
from gateway.web.client import ApiError, api_path
from gateway.web.context import Ctx, CtxDep
from gateway.web.forms import ApiMessage, Form, whole_number
from gateway.web.routes import assignments

router = APIRouter(prefix="/vouchers")
CHOOSABLE = ("issued", "chosen")
COMPARED = 20  # offerings on one page of the comparison


def holder(ctx: Ctx) -> None:
    ctx.require(Role.citizen)


async def offerings_by_id(ctx: Ctx, ids: set[str]) -> dict[str, dict[str, Any]]:
    """The offerings named (a withdrawn or unknown one is left out)."""
    found: dict[str, dict[str, Any]] = {}
    for oid in sorted(i for i in ids if i):
        try:
            found[oid] = await ctx.api.get(api_path("offerings", oid))
        except ApiError as exc:
            if exc.status not in (403, 404):
                raise
    return found


@router.get("")
async def my_vouchers(ctx: CtxDep) -> HTMLResponse:
    holder(ctx)
    cursor = ctx.request.query_params.get("cursor", "")[:600] or None
    try:
        result = await ctx.api.get("/vouchers", {"cursor": cursor, "limit": 50})
    except ApiError as exc:
        if exc.status != 422:
            raise
        result = await ctx.api.get("/vouchers", {"limit": 50})  # a cursor that was not ours
    chosen = await offerings_by_id(ctx, {v["offering_id"] for v in result["items"]
                                         if v.get("offering_id")})
    return ctx.render("vouchers/list.html", result=result, offerings=chosen,
                      names=await reference.names(ctx))


async def render_voucher(ctx: Ctx, voucher_id: str, form: Form, *,
                         status: int = 200) -> HTMLResponse:
    holder(ctx)
    path = api_path("vouchers", voucher_id)
    voucher = await ctx.api.get(path)
    history = await ctx.api.get(api_path("vouchers", voucher_id, "choices"))
    offerings = await offerings_by_id(ctx, {c["offering_id"] for c in history}
                                      | {voucher.get("offering_id") or ""})
    if not form.values.get("idempotency_key") or not form.ok:
        form.values["idempotency_key"] = str(uuid.uuid4())
    assigned = await assignments.default_assignment(ctx, voucher, history)
    return ctx.render("vouchers/voucher.html", status=status, v=voucher, history=history,
                      offerings=offerings, form=form, names=await reference.names(ctx),
                      assigned=assigned,
                      labels=rating_labels(ctx), done=ctx.request.query_params.get("done", ""))


def rating_labels(ctx: Ctx) -> dict[str, str]:
    return {"stars": ctx._("Stars"), "comment": ctx._("Comment (optional)")}


@router.get("/{voucher_id}")
async def voucher(voucher_id: str, ctx: CtxDep) -> HTMLResponse:
    return await render_voucher(ctx, voucher_id, Form())


@router.post("/{voucher_id}/rating")
async def rate(voucher_id: str, ctx: CtxDep) -> Response:
    form = Form.of(await ctx.request.form())
    ctx.check_csrf(form.values.get("csrf"))
    holder(ctx)
    _ = ctx._
    body: dict[str, Any] = {"comment": form.get("comment") or None}
    try:
        body["stars"] = whole_number(form.get("stars"), 1, 5)
    except ValueError:
        form.error("stars", _("Choose from 1 to 5 stars."))
    if form.ok and await ctx.submit(
            form, "POST", api_path("vouchers", voucher_id, "rating"), body,
            headers={"idempotency-key": form.get("idempotency_key")},
            known=set(rating_labels(ctx)),
            messages={409: (None, _("This service has been rated already, or it cannot be "
                                    "rated before it is completed."))}) is None:
        return ctx.redirect(f"/vouchers/{voucher_id}", done="rated")
    return await render_voucher(ctx, voucher_id, form, status=422)


# ---------------------------------------------------------------------- comparison


async def recommendations(ctx: Ctx, voucher_id: str) -> dict[str, dict[str, Any]] | None:
    """The matching service's ranking of the voucher's offerings, or None when no ranking is
    available (the service does not answer, or answers something else)."""
    try:
        reply = await ctx.api.call("GET", api_path("recommendations", voucher_id))
    except ApiError:
        return None
    return ranking_of(reply.data) if reply.ok else None


def ranking_of(data: Any) -> dict[str, dict[str, Any]] | None:
    """``{items: [{offering_id, factors: [...]}, ...], excluded: [{offering_id, reason}]}`` →
    the factors by offering id in rank order, then the excluded with their reason; None for
    anything else."""
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return None
    ranked: dict[str, dict[str, Any]] = {}
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("offering_id"), str):
            factors = item.get("factors")
            ranked[item["offering_id"]] = {
                "factors": [f for f in factors if isinstance(f, dict)]
                if isinstance(factors, list) else []}
    excluded = data.get("excluded") if isinstance(data, dict) else None
    for item in excluded if isinstance(excluded, list) else []:
        if isinstance(item, dict) and isinstance(item.get("offering_id"), str) \
                and item["offering_id"] not in ranked and ranked:
            ranked[item["offering_id"]] = {"factors": [],
                                           "excluded": str(item.get("reason") or "")}
    return ranked


async def render_compare(ctx: Ctx, voucher_id: str, form: Form, *,
                         status: int = 200) -> HTMLResponse:
    holder(ctx)
    v = await ctx.api.get(api_path("vouchers", voucher_id))
    cursor = ctx.request.query_params.get("cursor", "")[:600] or None
    wanted = {"region": v["region"], "service_type": v["service_type"], "limit": COMPARED}

    async def search() -> tuple[str | None, dict[str, Any]]:
        try:
            return cursor, await ctx.api.get("/offerings", {**wanted, "cursor": cursor})
        except ApiError as exc:
            if exc.status != 422:
                raise
            return None, await ctx.api.get("/offerings", wanted)  # not our cursor

    # the three answers do not depend on each other: asked at once
    (cursor, found), ranking, chosen = await asyncio.gather(
        search(), recommendations(ctx, voucher_id),
        offerings_by_id(ctx, {v.get("offering_id") or ""}))
    items: list[dict[str, Any]] = list(found["items"])
    if ranking:
        order = {oid: i for i, oid in enumerate(ranking)}
        items.sort(key=lambda o: order.get(o["id"], len(order)))
    current = chosen.get(v.get("offering_id") or "")
    if not form.values.get("idempotency_key") or not form.ok:
        form.values["idempotency_key"] = str(uuid.uuid4())
    return ctx.render("vouchers/compare.html", status=status, v=v, items=items,
                      total=found.get("total", len(items)), ranking=ranking, current=current,
                      cursor=cursor, next_cursor=found.get("next_cursor"),
                      form=form, names=await reference.names(ctx),
                      can_choose=v["state"] in CHOOSABLE)


@router.get("/{voucher_id}/compare")
async def compare(voucher_id: str, ctx: CtxDep) -> HTMLResponse:
    return await render_compare(ctx, voucher_id, Form())


@router.post("/{voucher_id}/choice")
async def choose(voucher_id: str, ctx: CtxDep) -> Response:
    form = Form.of(await ctx.request.form())
    ctx.check_csrf(form.values.get("csrf"))
    holder(ctx)
    _ = ctx._
    offering = form.get("offering_id")
    if not offering:
        form.general.append(_("Choose one of the services."))
        return await render_compare(ctx, voucher_id, form, status=422)
    try:
        await ctx.api.send("POST", api_path("vouchers", voucher_id, "choice"),
                           body={"offering_id": offering},
                           headers={"idempotency-key": form.get("idempotency_key")})
    except ApiError as exc:
        if exc.status not in (409, 422):
            raise
        form.general.append(_("The choice was not saved."))
        form.general.append(ApiMessage(exc.detail or exc.problem.get("title", "")))
        return await render_compare(ctx, voucher_id, form, status=exc.status)
    return ctx.redirect(f"/vouchers/{voucher_id}", done="chosen")
