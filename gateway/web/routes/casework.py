"""Pages for a region's admins about single vouchers: the region's vouchers by state, and one
voucher with its history, where an admin at a service point chooses or changes the provider on
the holder's behalf, cancels the voucher, or transfers a started one to another provider (each
with a reason; the voucher service audits it)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from contracts.principal import Role
from gateway.web import reference
from gateway.web.client import api_path
from gateway.web.context import Ctx, CtxDep
from gateway.web.forms import Form
from gateway.web.routes.listing import voucher_list
from gateway.web.routes.vouchers import CHOOSABLE, offerings_by_id

router = APIRouter(prefix="/admin")
STATES = ("issued", "chosen", "started", "completed", "expired", "cancelled")
CANCELLABLE = ("issued", "chosen", "started")
TRANSFERABLE = ("started",)


def region_of(ctx: Ctx) -> str:
    return ctx.own(Role.region_admin)


@router.get("/vouchers")
async def vouchers(ctx: CtxDep) -> Response:
    region_of(ctx)
    return await voucher_list(ctx, states=STATES, template="admin/vouchers.html",
                              back="/admin/vouchers")


def labels(ctx: Ctx) -> dict[str, str]:
    _ = ctx._
    return {"offering_id": _("Service and provider"),
            "reason": _("Reason (for example: at the holder's request, by phone)"),
            "cancel_code": _("Why is the voucher cancelled?"),
            "cancel_reason": _("Explanation"),
            "transfer_offering": _("New service and provider"),
            "transfer_reason": _("Reason for the transfer")}


def cancellation_codes(ctx: Ctx) -> list[tuple[str, str]]:
    _ = ctx._
    return [("holder_request", _("The holder asked for it")),
            ("holder_no_longer_eligible", _("The holder is no longer eligible")),
            ("issued_in_error", _("The voucher was issued in error")),
            ("holder_moved", _("The holder moved away")),
            ("service_interrupted", _("The service was interrupted")),
            ("other", _("Other (explained below)"))]


async def render_voucher(ctx: Ctx, voucher_id: str, form: Form, *,
                         status: int = 200) -> HTMLResponse:
    region_of(ctx)
    v = await ctx.api.get(api_path("vouchers", voucher_id))
    history = await ctx.api.get(api_path("vouchers", voucher_id, "choices"))
    offerings = await offerings_by_id(ctx, {c["offering_id"] for c in history})
    options: list[dict[str, Any]] = []
    if v["state"] in CHOOSABLE or v["state"] in TRANSFERABLE:
        options = (await ctx.api.get("/offerings", {"region": v["region"],
                                                    "service_type": v["service_type"],
                                                    "limit": 200}))["items"]
    if not form.values.get("idempotency_key") or not form.ok:
        form.values["idempotency_key"] = str(uuid.uuid4())
    return ctx.render("admin/voucher.html", status=status, v=v, history=history,
                      offerings=offerings, options=options, form=form, labels=labels(ctx),
                      names=await reference.names(ctx), codes=cancellation_codes(ctx),
                      choosable=v["state"] in CHOOSABLE,
                      cancellable=v["state"] in CANCELLABLE,
                      transferable=v["state"] in TRANSFERABLE,
                      done=ctx.request.query_params.get("done", ""))


@router.get("/vouchers/{voucher_id}")
async def voucher(voucher_id: str, ctx: CtxDep) -> HTMLResponse:
    return await render_voucher(ctx, voucher_id, Form())


async def _act(ctx: Ctx, voucher_id: str, form: Form, action: str, body: dict[str, Any], *,
               done: str, aliases: dict[str, str] | None = None) -> Response:
    """POST one of the voucher's actions on the holder's or the region's behalf (once per
    Idempotency-Key made when the page was shown), then back to the voucher page (303), or
    the page again with the errors at their fields."""
    if form.ok and await ctx.submit(
            form, "POST", api_path("vouchers", voucher_id, action), body,
            headers={"idempotency-key": form.get("idempotency_key")},
            aliases=aliases, known=set(labels(ctx))) is None:
        return ctx.redirect(f"/admin/vouchers/{voucher_id}", done=done)
    return await render_voucher(ctx, voucher_id, form, status=422)


@router.post("/vouchers/{voucher_id}/choice")
async def choose_for_holder(voucher_id: str, ctx: CtxDep) -> Response:
    form = Form.of(await ctx.request.form())
    ctx.check_csrf(form.values.get("csrf"))
    region_of(ctx)
    _ = ctx._
    body = {"offering_id": form.get("offering_id"), "reason": form.get("reason")}
    if not body["offering_id"]:
        form.error("offering_id", _("Choose the service."))
    if len(body["reason"]) < 3:
        form.error("reason", _("Write the reason (at least 3 characters)."))
    return await _act(ctx, voucher_id, form, "choice", body, done="chosen")


@router.post("/vouchers/{voucher_id}/cancellation")
async def cancel(voucher_id: str, ctx: CtxDep) -> Response:
    """Cancel: the place and the money no claim holds go back; a started voucher gets the
    outcome 'not achieved'."""
    form = Form.of(await ctx.request.form())
    ctx.check_csrf(form.values.get("csrf"))
    region_of(ctx)
    _ = ctx._
    body = {"reason_code": form.get("cancel_code"), "reason": form.get("cancel_reason")}
    if body["reason_code"] not in {code for code, _text in cancellation_codes(ctx)}:
        form.error("cancel_code", _("Choose one."))
    if len(body["reason"]) < 3:
        form.error("cancel_reason", _("Write the reason (at least 3 characters)."))
    return await _act(ctx, voucher_id, form, "cancellation", body, done="cancelled",
                      aliases={"reason_code": "cancel_code", "reason": "cancel_reason"})


@router.post("/vouchers/{voucher_id}/transfer")
async def transfer(voucher_id: str, ctx: CtxDep) -> Response:
    """A started voucher to another provider: claims made stay with the provider that made
    them; the rest of the value follows the voucher."""
    form = Form.of(await ctx.request.form())
    ctx.check_csrf(form.values.get("csrf"))
    region_of(ctx)
    _ = ctx._
    body = {"offering_id": form.get("transfer_offering"), "reason": form.get("transfer_reason")}
    if not body["offering_id"]:
        form.error("transfer_offering", _("Choose the service."))
    if len(body["reason"]) < 3:
        form.error("transfer_reason", _("Write the reason (at least 3 characters)."))
    return await _act(ctx, voucher_id, form, "transfer", body, done="transferred",
                      aliases={"offering_id": "transfer_offering", "reason": "transfer_reason"})
