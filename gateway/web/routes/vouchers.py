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
from gateway.web import comparison, reference
from gateway.web.client import ApiError, api_path
from gateway.web.context import Ctx, CtxDep
from gateway.web.forms import ApiMessage, Form, whole_number
from gateway.web.routes import assignments

router = APIRouter(prefix="/vouchers")
CHOOSABLE = ("issued", "chosen")


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


async def answer_of(ctx: Ctx, path: str, params: dict[str, Any] | None = None) -> Any:
    """The matching service's answer, or None when it does not give one."""
    try:
        reply = await ctx.api.call("GET", path, params=params)
    except ApiError:
        return None
    return reply.data if reply.ok else None


async def recommendations(ctx: Ctx, voucher_id: str,
                          page: int) -> comparison.Ranking | None:
    """Page ``page`` of the matching service's ranking of the offerings the voucher can be used
    for, followed by those left out (the service pages them itself), or None when no ranking
    is available."""
    data = await answer_of(ctx, api_path("recommendations", voucher_id),
                           {"limit": comparison.PAGE, "offset": (page - 1) * comparison.PAGE})
    return comparison.ranking_of(data)


async def offerings_shown(ctx: Ctx, ids: list[str]) -> list[dict[str, Any]]:
    """The offerings ``ids`` in that order, in one request (a withdrawn or hidden one is left
    out)."""
    if not ids:
        return []
    found = await ctx.api.get("/offerings", {"id": ids})
    return list(found["items"])


async def fallback_page(ctx: Ctx, v: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """Without a ranking: the registry's search of the voucher's region and service, by next
    start, with its cursor."""
    cursor = ctx.request.query_params.get("cursor", "")[:600] or None
    wanted = {"region": v["region"], "service_type": v["service_type"],
              "limit": comparison.PAGE}
    try:
        return cursor, await ctx.api.get("/offerings", {**wanted, "cursor": cursor})
    except ApiError as exc:
        if exc.status != 422:
            raise
        return None, await ctx.api.get("/offerings", wanted)  # not our cursor


async def ranked_page(ctx: Ctx, voucher_id: str) -> tuple[comparison.Ranking | None, int]:
    """The ranking's page asked for (``?page=``), or its last page when there are fewer."""
    asked = comparison.page_number(ctx.request.query_params.get("page"), 9999)
    ranking = await recommendations(ctx, voucher_id, asked)
    if ranking and asked > ranking.pages():
        asked = ranking.pages()
        ranking = await recommendations(ctx, voucher_id, asked)
    return ranking, asked


async def about_providers(ctx: Ctx, v: dict[str, Any],
                          providers: list[str]) -> tuple[Any, Any]:
    """The outcome figures and the ratings of the providers shown, at once."""
    if not providers:
        return {"items": []}, {"items": []}
    about = {"region": v["region"], "service_type": v["service_type"],
             "provider_id": providers}
    figures, ratings = await asyncio.gather(answer_of(ctx, "/statistics", about),
                                            answer_of(ctx, "/statistics/ratings", about))
    return figures, ratings


async def render_compare(ctx: Ctx, voucher_id: str, form: Form, *,
                         status: int = 200) -> HTMLResponse:
    holder(ctx)
    # The ranking needs only the voucher's id: asked with the voucher. Then at once the page's
    # offerings with the current choice (one request), and its providers' figures and ratings.
    v, (ranking, page) = await asyncio.gather(ctx.api.get(api_path("vouchers", voucher_id)),
                                              ranked_page(ctx, voucher_id))
    current_id = v.get("offering_id") or ""
    cursor: str | None = None
    next_cursor: str | None = None
    pages = 1
    if ranking:
        pages = ranking.pages()
        shown = ranking.order()
        (figures, ratings), found = await asyncio.gather(
            about_providers(ctx, v, ranking.providers()),
            offerings_shown(ctx, shown + ([current_id] if current_id
                                          and current_id not in shown else [])))
        items = [o for o in found if o["id"] in ranking.entries]
        chosen = {o["id"]: o for o in found if o["id"] == current_id}
        total = ranking.eligible
    else:
        ranking, page = None, 1
        (cursor, searched), chosen = await asyncio.gather(
            fallback_page(ctx, v), offerings_by_id(ctx, {current_id}))
        items = list(searched["items"])
        total = searched.get("total", len(items))
        next_cursor = searched.get("next_cursor")
        figures, ratings = await about_providers(
            ctx, v, list(dict.fromkeys(o["provider_id"] for o in items)))
    current = chosen.get(current_id)
    if not form.values.get("idempotency_key") or not form.ok:
        form.values["idempotency_key"] = str(uuid.uuid4())
    st = v["service_type"]
    return ctx.render("vouchers/compare.html", status=status, v=v, items=items, total=total,
                      ranking=ranking, current=current, cursor=cursor,
                      next_cursor=next_cursor, page=page, pages=pages,
                      figures=comparison.by_provider(figures, st) if figures else None,
                      ratings=comparison.by_provider(ratings, st) if ratings else None,
                      outcome=comparison.outcome, rating=comparison.rating,
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
