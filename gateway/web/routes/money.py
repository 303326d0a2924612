"""Pages for a region's admins about its money: budgets with their usage per funder (chart,
table, CSV), opening a budget, issuing vouchers from one — one at a time, or many from a CSV
file with a result for each row — topping it up and closing it."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from contracts.principal import Role
from gateway.web import reference
from gateway.web.client import ApiError, api_path
from gateway.web.context import Ctx, CtxDep
from gateway.web.downloads import csv_response
from gateway.web.forms import Form, calendar_date, euros_to_cents

router = APIRouter(prefix="/admin")
FUNDER_ROWS = 3  # funder lines on the form to open a budget
MEASURES = ("funded", "committed", "spent", "pending", "released", "available")
USAGE_COLUMNS = ("budget_id", "service_type", "period_start", "period_end", "status", "funder",
                 *(f"{m}_cents" for m in MEASURES))
MAX_CSV_BYTES = 1_000_000  # the gateway's body limit is 1 MiB


def region_of(ctx: Ctx) -> str:
    return ctx.own(Role.region_admin)


def totals(budget: dict[str, Any]) -> dict[str, int]:
    """The budget's usage summed over its funders."""
    return {m: sum(f[f"{m}_cents"] for f in budget["funders"]) for m in MEASURES}


async def all_budgets(ctx: Ctx) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        page = await ctx.api.get("/budgets", {"cursor": cursor, "limit": 200})
        out += page["items"]
        cursor = page.get("next_cursor")
        if not cursor or len(out) >= 2_000:
            return out


def usage_rows(budgets: list[dict[str, Any]]) -> list[list[Any]]:
    return [[b["id"], b["service_type"], b["period_start"], b["period_end"], b["status"],
             f["funder"], *(f[f"{m}_cents"] for m in MEASURES)]
            for b in budgets for f in b["funders"]]


@router.get("/budgets")
async def budgets(ctx: CtxDep) -> Response:
    region = region_of(ctx)
    items = await all_budgets(ctx)
    if ctx.request.query_params.get("format") == "csv":
        return csv_response(f"budgets-{region}.csv", USAGE_COLUMNS, usage_rows(items))
    return ctx.render("admin/budgets.html", items=[(b, totals(b)) for b in items],
                      names=await reference.names(ctx), region=region,
                      done=ctx.request.query_params.get("done", ""))


def budget_labels(ctx: Ctx) -> dict[str, str]:
    _ = ctx._
    labels = {"service_type": _("Service"), "period_start": _("Period starts"),
              "period_end": _("Period ends")}
    for i in range(FUNDER_ROWS):
        labels[f"funder{i}"] = _("Funder %(n)s", n=i + 1)
        labels[f"amount{i}"] = _("Amount of funder %(n)s (euros)", n=i + 1)
    return labels


async def render_new_budget(ctx: Ctx, form: Form, *, status: int = 200) -> HTMLResponse:
    region = region_of(ctx)
    names = await reference.names(ctx)
    if not form.values.get("idempotency_key") or not form.ok:
        form.values["idempotency_key"] = str(uuid.uuid4())
    return ctx.render("admin/budget_new.html", status=status, form=form, names=names,
                      funders=funder_options(ctx, names, region), rows=range(FUNDER_ROWS),
                      labels=budget_labels(ctx))


@router.get("/budgets/new")
async def new_budget(ctx: CtxDep) -> HTMLResponse:
    today = date.today()
    return await render_new_budget(ctx, Form(values={
        "period_start": today.isoformat(), "period_end": today.replace(month=12, day=31)
        .isoformat(), "funder0": "region"}))


@router.post("/budgets/new")
async def open_budget(ctx: CtxDep) -> Response:
    form = Form.of(await ctx.request.form())
    ctx.check_csrf(form.values.get("csrf"))
    region_of(ctx)
    _ = ctx._
    body: dict[str, Any] = {"service_type": form.get("service_type"), "funders": []}
    if not body["service_type"]:
        form.error("service_type", _("Choose one."))
    for name in ("period_start", "period_end"):
        try:
            body[name] = calendar_date(form.get(name)).isoformat()
        except ValueError:
            form.error(name, _("Write the date as dd.mm.yyyy, for example 1.9.2026."))
    for i in range(FUNDER_ROWS):
        funder, amount = form.get(f"funder{i}"), form.get(f"amount{i}")
        if not funder and not amount:
            continue
        if not funder:
            form.error(f"funder{i}", _("Choose the funder."))
        try:
            body["funders"].append({"funder": funder, "amount_cents": euros_to_cents(amount)})
        except ValueError:
            form.error(f"amount{i}", _("Write the amount in euros, for example 250000."))
    if not body["funders"] and "amount0" not in form.errors:
        form.error("amount0", _("Give at least one funder and its amount."))
    aliases = {f"funders.{i}.{k}": f"{'funder' if k == 'funder' else 'amount'}{i}"
               for i in range(FUNDER_ROWS) for k in ("funder", "amount_cents")}
    if form.ok:
        try:
            reply = await ctx.api.send("POST", "/budgets", body=body,
                                       headers={"idempotency-key": form.get("idempotency_key")})
        except ApiError as exc:
            if exc.status not in (409, 422):
                raise
            form.take_api_errors(exc, aliases=aliases, known=set(budget_labels(ctx)))
        else:
            return ctx.redirect(f"/admin/budgets/{reply.data['id']}", done="opened")
    return await render_new_budget(ctx, form, status=422)


# ---------------------------------------------------------------------- one budget, issuance


def issue_labels(ctx: Ctx) -> dict[str, str]:
    _ = ctx._
    return {"holder_kind": _("Holder"), "henkilotunnus": _("Personal identity code"),
            "business_id": _("Business ID"), "value": _("Value (euros)"),
            "valid_until": _("Valid until (optional)"),
            "choice_deadline": _("Choose by (optional)"),
            "home_municipality": _("Home municipality"), "languages": _("Languages"),
            "file": _("CSV file"), "topup_funder": _("Funder"),
            "topup_amount": _("Amount to add (euros)"), "topup_reason": _("Reason"),
            "close_reason": _("Reason for closing"),
            "close_confirm": _("I understand that nothing more can be issued from this budget")}


def funder_options(ctx: Ctx, names: Any, region: str) -> list[tuple[str, str]]:
    own: dict[str, Any] = next((r for r in names.region_list if r["code"] == region), {})
    return [("region", ctx._("The region"))] + [
        (m["code"], reference.name(m.get("name"), ctx.lang))
        for m in own.get("municipalities", [])]


async def render_budget(ctx: Ctx, budget_id: str, form: Form, *, status: int = 200,
                        report: dict[str, Any] | None = None) -> HTMLResponse:
    region = region_of(ctx)
    budget = await ctx.api.get(api_path("budgets", budget_id))
    names = await reference.names(ctx)
    if not form.values.get("idempotency_key") or not form.ok or report is not None:
        form.values["idempotency_key"] = str(uuid.uuid4())
    own = next((r for r in names.region_list if r["code"] == region), {})
    municipalities = [(m["code"], reference.name(m.get("name"), ctx.lang))
                      for m in own.get("municipalities", [])]
    issued = None
    if ctx.request.query_params.get("issued"):
        try:
            issued = await ctx.api.get(api_path("vouchers", ctx.request.query_params["issued"]))
        except ApiError as exc:
            if exc.status != 404:
                raise
    return ctx.render("admin/budget.html", status=status, b=budget, sums=totals(budget),
                      measures=MEASURES, form=form, labels=issue_labels(ctx), names=names,
                      municipalities=municipalities, report=report, issued=issued,
                      funders=funder_options(ctx, names, region),
                      done=ctx.request.query_params.get("done", ""))


@router.get("/budgets/{budget_id}")
async def budget(budget_id: str, ctx: CtxDep) -> Response:
    if ctx.request.query_params.get("format") == "csv":
        region_of(ctx)
        b = await ctx.api.get(api_path("budgets", budget_id))
        return csv_response(f"budget-{b['id']}.csv", USAGE_COLUMNS, usage_rows([b]))
    return await render_budget(ctx, budget_id, Form(values={"holder_kind": "person"}))


@router.post("/budgets/{budget_id}/vouchers")
async def issue_one(budget_id: str, ctx: CtxDep) -> Response:
    form = Form.of(await ctx.request.form(), lists=("languages",))
    ctx.check_csrf(form.values.get("csrf"))
    region_of(ctx)
    _ = ctx._
    kind = form.get("holder_kind")
    body: dict[str, Any] = {"budget_id": budget_id, "languages": form.lists.get("languages", []),
                            "home_municipality": form.get("home_municipality") or None}
    if kind == "company":
        body["holder"] = {"kind": "company", "business_id": form.get("business_id")}
        if not form.get("business_id"):
            form.error("business_id", _("Write the business ID, for example 1234567-8."))
    else:
        body["holder"] = {"kind": "person", "henkilotunnus": form.get("henkilotunnus")}
        if not form.get("henkilotunnus"):
            form.error("henkilotunnus", _("Write the personal identity code."))
    try:
        body["value_cents"] = euros_to_cents(form.get("value"))
    except ValueError:
        form.error("value", _("Write the value in euros, for example 1500."))
    for name in ("valid_until", "choice_deadline"):
        if form.get(name):
            try:
                body[name] = calendar_date(form.get(name)).isoformat()
            except ValueError:
                form.error(name, _("Write the date as dd.mm.yyyy, for example 1.9.2026."))
    form.values.pop("henkilotunnus", None)  # never shown back on a page
    aliases = {"holder.henkilotunnus": "henkilotunnus", "holder.business_id": "business_id",
               "value_cents": "value", "holder": "henkilotunnus"}
    if form.ok:
        try:
            reply = await ctx.api.send("POST", "/vouchers", body=body,
                                       headers={"idempotency-key": form.get("idempotency_key")})
        except ApiError as exc:
            if exc.status not in (409, 422):
                raise
            form.take_api_errors(exc, aliases=aliases, known=set(issue_labels(ctx)))
        else:
            return ctx.redirect(f"/admin/budgets/{budget_id}", done="issued",
                                issued=reply.data["id"])
    return await render_budget(ctx, budget_id, form, status=422)


@router.post("/budgets/{budget_id}/bulk-issuance")
async def issue_many(budget_id: str, ctx: CtxDep) -> Response:
    data = await ctx.request.form(max_files=1, max_fields=10)
    form = Form.of(data)
    ctx.check_csrf(form.values.get("csrf"))
    region_of(ctx)
    _ = ctx._
    upload = data.get("file")
    content = b""
    if isinstance(upload, UploadFile):
        content = await upload.read(MAX_CSV_BYTES + 1)
    if not content:
        form.error("file", _("Choose a CSV file."))
    elif len(content) > MAX_CSV_BYTES:
        form.error("file", _("The file is too large: at most 1 MB at a time."))
    if not form.ok:
        return await render_budget(ctx, budget_id, form, status=422)
    try:
        reply = await ctx.api.send("POST", "/vouchers/bulk-issuance",
                                   params={"budget_id": budget_id},
                                   content=content.removeprefix(b"\xef\xbb\xbf"),
                                   content_type="text/csv",
                                   headers={"idempotency-key": form.get("idempotency_key")})
    except ApiError as exc:
        if exc.status not in (409, 413, 415, 422):
            raise
        form.take_api_errors(exc, aliases={"budget_id": "file"}, known={"file"})
        return await render_budget(ctx, budget_id, form, status=422)
    return await render_budget(ctx, budget_id, Form(values={"holder_kind": "person"}),
                               report=reply.data)


@router.post("/budgets/{budget_id}/top-ups")
async def top_up(budget_id: str, ctx: CtxDep) -> Response:
    """One funder adds money (a municipality not yet among the funders joins this way)."""
    form = Form.of(await ctx.request.form())
    ctx.check_csrf(form.values.get("csrf"))
    region_of(ctx)
    _ = ctx._
    body: dict[str, Any] = {"funder": form.get("topup_funder"),
                            "reason": form.get("topup_reason")}
    if not body["funder"]:
        form.error("topup_funder", _("Choose the funder."))
    try:
        body["amount_cents"] = euros_to_cents(form.get("topup_amount"))
    except ValueError:
        form.error("topup_amount", _("Write the amount in euros, for example 250000."))
    if len(body["reason"]) < 3:
        form.error("topup_reason", _("Write the reason (at least 3 characters)."))
    aliases = {"funder": "topup_funder", "amount_cents": "topup_amount",
               "reason": "topup_reason"}
    if form.ok and await ctx.submit(
            form, "POST", api_path("budgets", budget_id, "top-ups"), body,
            headers={"idempotency-key": form.get("idempotency_key")},
            aliases=aliases, known=set(issue_labels(ctx))) is None:
        return ctx.redirect(f"/admin/budgets/{budget_id}", done="topped_up")
    return await render_budget(ctx, budget_id, form, status=422)


@router.post("/budgets/{budget_id}/closure")
async def close(budget_id: str, ctx: CtxDep) -> Response:
    """Close the budget once the admin has confirmed it: what it still holds goes back to
    its funders, and nothing more is issued from it."""
    form = Form.of(await ctx.request.form())
    ctx.check_csrf(form.values.get("csrf"))
    region_of(ctx)
    _ = ctx._
    body = {"reason": form.get("close_reason")}
    if form.get("close_confirm") != "1":
        form.error("close_confirm", _("Confirm that the budget is to be closed."))
    if len(body["reason"]) < 3:
        form.error("close_reason", _("Write the reason (at least 3 characters)."))
    if form.ok and await ctx.submit(
            form, "POST", api_path("budgets", budget_id, "closure"), body,
            headers={"idempotency-key": form.get("idempotency_key")},
            aliases={"reason": "close_reason"}, known=set(issue_labels(ctx))) is None:
        return ctx.redirect(f"/admin/budgets/{budget_id}", done="closed")
    return await render_budget(ctx, budget_id, form, status=422)
