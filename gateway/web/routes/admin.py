"""Pages for a region's admins: providers by accreditation state (the applications first),
one provider's accreditation with the decision form and its history, and the audit log."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from contracts.principal import Role
from gateway.web import reference
from gateway.web.client import ApiError, api_path
from gateway.web.context import Ctx, CtxDep
from gateway.web.downloads import csv_response
from gateway.web.forms import Form, calendar_date

router = APIRouter(prefix="/admin")
STATES = ("applied", "approved", "suspended", "rejected", "revoked", "expired")
DECISIONS = ("approve", "reject", "suspend", "reinstate", "revoke", "renew")
CSV_MAX_ROWS = 10_000
CSV_PAGE = 200


def region_of(ctx: Ctx) -> str:
    return ctx.own(Role.region_admin)


def decision_labels(ctx: Ctx) -> dict[str, str]:
    _ = ctx._
    return {"decision": _("Decision"), "reason": _("Reason"),
            "valid_until": _("Valid until (when approving or renewing)")}


@router.get("/providers")
async def providers(ctx: CtxDep) -> HTMLResponse:
    region = region_of(ctx)
    state = ctx.request.query_params.get("state", "applied")
    if state not in STATES:
        state = "applied"
    cursor = ctx.request.query_params.get("cursor", "")[:600] or None
    result = await ctx.api.get("/providers", {"state": state, "cursor": cursor, "limit": 50})
    return ctx.render("admin/providers.html", result=result, state=state, states=STATES,
                      region=region, names=await reference.names(ctx))


async def render_provider(ctx: Ctx, provider_id: str, form: Form, *,
                          status: int = 200) -> HTMLResponse:
    region = region_of(ctx)
    item = await ctx.api.get(api_path("providers", provider_id))
    mine = next((a for a in item.get("accreditations", []) if a.get("region") == region), None)
    history = await ctx.api.get(api_path("providers", provider_id, "history"), {"limit": 50})
    if mine is not None and (not form.values.get("version") or form.general):
        form.values["version"] = str(mine["version"])
    if not form.values.get("idempotency_key") or not form.ok:
        form.values["idempotency_key"] = str(uuid.uuid4())
    return ctx.render("admin/provider.html", status=status, item=item, mine=mine,
                      history=history, form=form, decisions=DECISIONS,
                      labels=decision_labels(ctx), names=await reference.names(ctx),
                      done=ctx.request.query_params.get("done", ""))


@router.get("/providers/{provider_id}")
async def provider(provider_id: str, ctx: CtxDep) -> HTMLResponse:
    return await render_provider(ctx, provider_id, Form())


@router.post("/providers/{provider_id}")
async def decide(provider_id: str, ctx: CtxDep) -> Response:
    form = Form.of(await ctx.request.form())
    ctx.check_csrf(form.values.get("csrf"))
    region = region_of(ctx)
    _ = ctx._
    body: dict[str, Any] = {"decision": form.get("decision"), "reason": form.get("reason")}
    if body["decision"] not in DECISIONS:
        form.error("decision", _("Choose a decision."))
    if len(body["reason"]) < 3:
        form.error("reason", _("Write the reason for the decision (at least 3 characters)."))
    if form.get("valid_until"):
        try:
            body["valid_until"] = calendar_date(form.get("valid_until")).isoformat()
        except ValueError:
            form.error("valid_until", _("Write the date as dd.mm.yyyy, for example 1.9.2026."))
    elif body["decision"] in ("approve", "renew"):
        form.error("valid_until", _("Give the date until which the approval is valid."))
    path = api_path("providers", provider_id, "accreditations", region, "decisions")
    stale = _("Someone decided on this provider meanwhile. Check the current state below and "
              "decide again.")
    if form.ok and await ctx.submit(
            form, "POST", path, body, known=set(decision_labels(ctx)),
            headers={"if-match": f'"{form.get("version")}"',
                     "idempotency-key": form.get("idempotency_key")},
            messages={412: (None, stale)}) is None:
        return ctx.redirect(f"/admin/providers/{provider_id}", done="decided")
    return await render_provider(ctx, provider_id, form, status=422)


@router.get("/audit-log")
async def audit_log(ctx: CtxDep) -> Response:
    region = region_of(ctx)
    query = ctx.request.query_params
    if query.get("format") == "csv":
        return await audit_csv(ctx, region)
    cursor = query.get("cursor", "")[:600] or None
    try:
        result = await ctx.api.get("/audit-log", {"cursor": cursor, "limit": 50})
    except ApiError as exc:
        if exc.status != 422:
            raise
        return ctx.redirect("/admin/audit-log")  # a link that was not ours: the first page
    return ctx.render("admin/audit_log.html", result=result, cursor=cursor, region=region)


AUDIT_COLUMNS = ("seq", "at", "actor", "actor_role", "action", "subject_type", "subject_id",
                 "region", "reason")


async def audit_csv(ctx: Ctx, region: str) -> Response:
    """The whole log of the region (at most ``CSV_MAX_ROWS`` rows, newest first)."""
    rows: list[list[Any]] = []
    cursor: str | None = None
    while len(rows) < CSV_MAX_ROWS:
        page = await ctx.api.get("/audit-log", {"cursor": cursor, "limit": CSV_PAGE})
        rows += [[e.get(c) for c in AUDIT_COLUMNS] for e in page["items"]]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    return csv_response(f"audit-log-{region}.csv", AUDIT_COLUMNS, rows[:CSV_MAX_ROWS])
