"""Pages for a region's admins about default assignment: the region's runs and starting one
(seed optional), one run's inputs, summary (charts with tables, CSV) and assignments with
their explanations, and assigning a voucher by hand with a reason (an override, kept by every
later run)."""

from __future__ import annotations

import uuid
from typing import Any

from babel.numbers import format_percent
from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from contracts.principal import Role
from gateway.web import i18n, reference
from gateway.web.client import ApiError, api_path
from gateway.web.context import Ctx, CtxDep
from gateway.web.downloads import csv_response
from gateway.web.forms import Form, whole_number

router = APIRouter(prefix="/admin")
DIMENSIONS = ("municipality", "language", "holder_kind")
RUN_COLUMNS = ("run_id", "created_at", "seed", "score_version", "vouchers", "placed",
               "placed_share", "first_choice_share", "fixed", "no_candidates", "all_full",
               "providers_capped")
ASSIGNMENT_COLUMNS = ("voucher_id", "status", "offering_id", "provider_id", "provider_name",
                      "rank", "score", "override", "override_reason", "explanation",
                      "home_municipality", "holder_kind")
MAX_CSV_ROWS = 10_000
MAX_SEED = 2**31 - 1


def region_of(ctx: Ctx) -> str:
    return ctx.own(Role.region_admin)


def cursor_of(ctx: Ctx) -> str | None:
    return ctx.request.query_params.get("cursor", "")[:600] or None


def start_labels(ctx: Ctx) -> dict[str, str]:
    return {"seed": ctx._("Seed (optional)")}


def run_row(run: dict[str, Any]) -> list[Any]:
    s = run.get("summary") or {}
    unplaced = s.get("unplaced_by_reason") or {}
    return [run["run_id"], run["created_at"], run["seed"], run["score_version"],
            s.get("vouchers"), s.get("placed"), s.get("placed_share"),
            s.get("first_choice_share"), s.get("fixed"), unplaced.get("no_candidates"),
            unplaced.get("all_full"), unplaced.get("providers_capped")]


async def render_runs(ctx: Ctx, form: Form, *, status: int = 200) -> Response:
    region = region_of(ctx)
    query = ctx.request.query_params
    cursor = cursor_of(ctx)
    try:
        result = await ctx.api.get("/assignments", {"cursor": cursor, "limit": 20})
    except ApiError as exc:
        if exc.status != 422:
            raise
        return ctx.redirect("/admin/assignment-runs")
    if query.get("format") == "csv":
        rows, more = list(result["items"]), result.get("next_cursor")
        while more and len(rows) < MAX_CSV_ROWS:
            page = await ctx.api.get("/assignments", {"cursor": more, "limit": 200})
            rows += page["items"]
            more = page.get("next_cursor")
        return csv_response(f"assignment-runs-{region}.csv", RUN_COLUMNS,
                            [run_row(r) for r in rows])
    if not form.values.get("idempotency_key") or not form.ok:
        form.values["idempotency_key"] = str(uuid.uuid4())
    return ctx.render("admin/assignment_runs.html", status=status, result=result,
                      cursor=cursor, form=form, labels=start_labels(ctx),
                      share=share_text(ctx.lang))


@router.get("/assignment-runs")
async def runs(ctx: CtxDep) -> Response:
    return await render_runs(ctx, Form())


@router.post("/assignment-runs")
async def start_run(ctx: CtxDep) -> Response:
    form = Form.of(await ctx.request.form())
    ctx.check_csrf(form.values.get("csrf"))
    region_of(ctx)
    body: dict[str, Any] = {}
    if form.get("seed"):
        try:
            body["seed"] = whole_number(form.get("seed"), 0, MAX_SEED)
        except ValueError:
            form.error("seed", ctx._("Write a whole number from 0 to %(max)s, or leave it "
                                     "empty.", max=MAX_SEED))
    if form.ok:
        try:
            reply = await ctx.api.send("POST", "/assignments", body=body,
                                       headers={"idempotency-key": form.get("idempotency_key")})
        except ApiError as exc:
            if exc.status not in (409, 422):
                raise
            form.take_api_errors(exc, known=set(start_labels(ctx)))
        else:
            return ctx.redirect(f"/admin/assignment-runs/{reply.data['run_id']}", done="run")
    return await render_runs(ctx, form, status=422)


def tenths(share: float | None) -> int:
    """A share 0..1 as tenths of a percent (what the charts draw)."""
    return max(0, round((share or 0) * 1000))


def share_text(lang: str) -> Any:
    """A share 0..1 (or tenths of a percent, from a chart) as people read it: ``87,5 %``."""
    def text(value: float | int | None, *, from_tenths: bool = False) -> str:
        if value is None:
            return "–"
        share = value / 1000 if from_tenths else float(value)
        return format_percent(share, "#,##0.0 %", locale=f"{lang}_FI")
    return text


async def group_names(ctx: Ctx, summary: dict[str, Any]) -> dict[str, dict[str, str]]:
    """What each disparity row's label means to a person, per dimension."""
    names = await reference.names(ctx)
    _ = ctx._
    kinds = {"person": _("A person"), "company": _("A company")}
    out: dict[str, dict[str, str]] = {}
    for dim, rows in (summary.get("disparity") or {}).items():
        labels: dict[str, str] = {}
        for row in rows:
            label = str(row.get("label"))
            if label == "none":
                labels[label] = _("Not given")
            elif dim == "municipality":
                labels[label] = names.municipality(label)
            elif dim == "language":
                labels[label] = i18n.language_name(label, ctx.lang)
            elif dim == "holder_kind":
                labels[label] = kinds.get(label, label)
            else:
                labels[label] = label
        out[dim] = labels
    return out


async def all_proposals(ctx: Ctx, run_id: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    cursor: str | None = None
    while len(out) < MAX_CSV_ROWS:
        page = await ctx.api.get(api_path("assignments", run_id, "proposals"),
                                 {"cursor": cursor, "limit": 200})
        out += page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    return out


@router.get("/assignment-runs/{run_id}")
async def run(run_id: str, ctx: CtxDep) -> Response:
    region = region_of(ctx)
    run = await ctx.api.get(api_path("assignments", run_id))
    if ctx.request.query_params.get("format") == "csv":
        rows = await all_proposals(ctx, run_id)
        return csv_response(
            f"assignment-run-{region}-{run_id}.csv", ASSIGNMENT_COLUMNS,
            [[p.get(c) if c != "explanation" else (p["explanation"].get(ctx.lang)
                                                   or p["explanation"]["fi"])
              for c in ASSIGNMENT_COLUMNS] for p in rows])
    cursor = cursor_of(ctx)
    try:
        proposals = await ctx.api.get(api_path("assignments", run_id, "proposals"),
                                      {"cursor": cursor, "limit": 50})
    except ApiError as exc:
        if exc.status != 422:
            raise
        return ctx.redirect(f"/admin/assignment-runs/{run_id}")
    summary = run.get("summary") or {}
    return ctx.render("admin/assignment_run.html", run=run, summary=summary,
                      proposals=proposals, cursor=cursor, dimensions=DIMENSIONS,
                      groups=await group_names(ctx, summary), tenths=tenths,
                      share=share_text(ctx.lang),
                      share_of_tenths=lambda v: share_text(ctx.lang)(v, from_tenths=True),
                      names=await reference.names(ctx),
                      done=ctx.request.query_params.get("done", ""))


def override_labels(ctx: Ctx) -> dict[str, str]:
    return {"offering_id": ctx._("Service and provider"),
            "reason": ctx._("Reason (for example: at the holder's request, by phone)")}


async def render_override(ctx: Ctx, run_id: str, voucher_id: str, form: Form, *,
                          status: int = 200) -> HTMLResponse:
    region_of(ctx)
    run = await ctx.api.get(api_path("assignments", run_id))
    ranking = await ctx.api.get(api_path("recommendations", voucher_id), {"limit": 20})
    if not form.values.get("idempotency_key") or not form.ok:
        form.values["idempotency_key"] = str(uuid.uuid4())
    return ctx.render("admin/assignment_override.html", status=status, run=run,
                      voucher_id=voucher_id, ranking=ranking, form=form,
                      labels=override_labels(ctx))


def voucher_of(ctx: Ctx, form: Form | None = None) -> str:
    value = (form.get("voucher_id") if form is not None
             else ctx.request.query_params.get("voucher", "").strip())
    if not value or len(value) > 36:
        raise ApiError(404, {"title": "Not Found", "detail": "no such voucher"})
    return value


@router.get("/assignment-runs/{run_id}/override")
async def override_form(run_id: str, ctx: CtxDep) -> HTMLResponse:
    return await render_override(ctx, run_id, voucher_of(ctx), Form())


@router.post("/assignment-runs/{run_id}/override")
async def override(run_id: str, ctx: CtxDep) -> Response:
    form = Form.of(await ctx.request.form())
    ctx.check_csrf(form.values.get("csrf"))
    region_of(ctx)
    voucher_id = voucher_of(ctx, form)
    _ = ctx._
    body = {"voucher_id": voucher_id, "offering_id": form.get("offering_id"),
            "reason": form.get("reason")}
    if not body["offering_id"]:
        form.error("offering_id", _("Choose the service."))
    if len(body["reason"]) < 3:
        form.error("reason", _("Write the reason (at least 3 characters)."))
    if form.ok and await ctx.submit(
            form, "POST", api_path("assignments", run_id, "overrides"), body,
            headers={"idempotency-key": form.get("idempotency_key")},
            known=set(override_labels(ctx)),
            messages={409: (None, _("The holder has chosen a provider or the service has "
                                    "started: the assignment can no longer be changed."))}
            ) is None:
        return ctx.redirect(f"/admin/assignment-runs/{run_id}", done="overridden")
    return await render_override(ctx, run_id, voucher_id, form, status=422)


async def default_assignment(ctx: Ctx, voucher: dict[str, Any],
                             history: list[dict[str, Any]]) -> dict[str, Any] | None:
    """For the holder's voucher page: the matching service's explanation of the current
    provider, when the region's default assignment chose it (None otherwise, or when the
    matching service cannot tell)."""
    current = next((c for c in history if c.get("ended_at") is None), None)
    if current is None or current.get("chosen_by") != "default_assignment" \
            or voucher.get("state") not in ("chosen", "started"):
        return None
    try:
        found: dict[str, Any] = await ctx.api.get(
            api_path("recommendations", voucher["id"], "assignment"))
    except ApiError as exc:
        if exc.status not in (404, 502, 503, 504):
            raise
        return {"offering_id": current["offering_id"], "explanation": None}
    if found.get("offering_id") != current["offering_id"]:
        found["explanation"] = None  # applied from an older run: its words are not known
    return found
