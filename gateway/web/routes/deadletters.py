"""The dead letters for a region's admins: the events a service gave up on, newest first, one
service at a time, as metadata only (the API never gives a region admin the event itself; see
kit/dead_letters.py for why)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from contracts.principal import Role
from gateway.web.client import ApiError, api_path
from gateway.web.context import CtxDep, PageError

router = APIRouter(prefix="/admin")
SERVICES = ("registry", "voucher", "matching")


@router.get("/dead-letters")
async def dead_letters(ctx: CtxDep) -> Response:
    ctx.own(Role.region_admin)
    query = ctx.request.query_params
    service = query.get("service") or SERVICES[0]
    if service not in SERVICES:
        raise PageError(404, ctx._("The page or item was not found. It may have been "
                                   "removed, or it is not public."))
    cursor = query.get("cursor", "")[:600] or None
    try:
        result = await ctx.api.get(api_path("dead-letters", service),
                                   {"cursor": cursor, "limit": 50})
    except ApiError as exc:
        if exc.status != 422:
            raise
        return ctx.redirect("/admin/dead-letters", service=service)
    return ctx.render("admin/dead_letters.html", result=result, service=service,
                      services=SERVICES, cursor=cursor)
