"""Pages for a region's admins about what the money achieved and who decided on it: spending
and cost per outcome by service, provider, funder or budget (chart, table, CSV), and the
hash-chained log of money decisions with its verification."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from contracts.principal import Role
from gateway.web import reference
from gateway.web.client import ApiError, api_path
from gateway.web.context import Ctx, CtxDep
from gateway.web.downloads import csv_response
from gateway.web.forms import Form, calendar_date

router = APIRouter(prefix="/admin")
DIMENSIONS = ("service_type", "provider", "funder", "budget")
COLUMNS = ("key", "funded_cents", "issued_cents", "committed_cents", "spent_cents",
           "pending_cents", "released_cents", "available_cents", "paid_cents",
           "completed_vouchers", "achieved_outcomes", "cost_per_completed_cents",
           "cost_per_outcome_cents")


def region_of(ctx: Ctx) -> str:
    return ctx.own(Role.region_admin)


async def key_names(ctx: Ctx, by: str, rows: list[dict[str, Any]]) -> dict[str, str]:
    """What each row's key means to a person: a service's or municipality's name, a
    provider's name."""
    names = await reference.names(ctx)
    out: dict[str, str] = {}
    for row in rows:
        key = row["key"]
        if by == "service_type":
            out[key] = names.service_type(key)
        elif by == "funder":
            out[key] = ctx._("The region") if key == "region" else names.municipality(key)
        elif by == "provider":
            try:
                out[key] = (await ctx.api.get(api_path("providers", key)))["legal_name"]
            except ApiError as exc:
                if exc.status not in (404, 422):
                    raise
                out[key] = key
        else:
            out[key] = key
    return out


@router.get("/reports")
async def reports(ctx: CtxDep) -> Response:
    region = region_of(ctx)
    query = ctx.request.query_params
    form = Form(values={k: query.get(k, "")[:40] for k in ("by", "from", "to")})
    by = form.get("by") if form.get("by") in DIMENSIONS else "service_type"
    form.values["by"] = by
    params: dict[str, str] = {"by": by}
    for name in ("from", "to"):
        if form.get(name):
            try:
                params[name] = calendar_date(form.get(name)).isoformat()
            except ValueError:
                form.error(name, ctx._("Write the date as dd.mm.yyyy, for example 1.9.2026."))
    labels = {"by": ctx._("Group by"), "from": ctx._("From"), "to": ctx._("To")}
    report: dict[str, Any] = {"rows": []}
    if form.ok:
        try:
            report = await ctx.api.get("/reports", params)
        except ApiError as exc:
            if exc.status != 422:
                raise
            form.take_api_errors(exc, known=set(labels))
    if query.get("format") == "csv" and form.ok:
        return csv_response(f"report-{region}-{by}.csv", COLUMNS,
                            [[row.get(c) for c in COLUMNS] for row in report["rows"]])
    return ctx.render("admin/reports.html", status=200 if form.ok else 422, form=form,
                      labels=labels, report=report, by=by, dimensions=DIMENSIONS,
                      keys=await key_names(ctx, by, report["rows"]), params=params)


@router.get("/audit-chain")
async def audit_chain(ctx: CtxDep) -> Response:
    region_of(ctx)
    cursor = ctx.request.query_params.get("cursor", "")[:600] or None
    try:
        result = await ctx.api.get("/audit-chain", {"cursor": cursor, "limit": 50})
    except ApiError as exc:
        if exc.status != 422:
            raise
        return ctx.redirect("/admin/audit-chain")
    check = None
    if ctx.request.query_params.get("verify"):
        check = await ctx.api.get("/audit-chain/verification")
    return ctx.render("admin/audit_chain.html", result=result, check=check, cursor=cursor)
