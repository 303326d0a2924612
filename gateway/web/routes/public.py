"""Pages for anyone, signed in or not: the front page, the offering search, one offering, one
provider, the accessibility statement, and the application to become a provider."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from gateway.web import reference
from gateway.web.client import ApiError, api_path
from gateway.web.context import CtxDep
from gateway.web.forms import Form

router = APIRouter()
PAGE_SIZE = 10
FILTERS = ("q", "region", "service_type", "language", "municipality", "remote")


@router.get("/")
async def front(ctx: CtxDep) -> HTMLResponse:
    try:
        regions = await reference.regions(ctx)
    except ApiError:
        regions = []  # the front page still works: the search form without the region list
    return ctx.render("front.html", regions=regions)


def page_size(text: str | None) -> int:
    if text and text.isascii() and text.isdigit() and len(text) <= 3:
        return min(max(int(text), 1), 50)
    return PAGE_SIZE


@router.get("/offerings")
async def search(ctx: CtxDep) -> HTMLResponse:
    """The public search: the API's filters as a plain GET form, its cursor as the "next
    page" link."""
    query = ctx.request.query_params
    form = Form(values={k: query.get(k, "")[:500] for k in FILTERS})
    cursor = query.get("cursor", "")[:600]
    limit = page_size(query.get("limit"))
    params: dict[str, Any] = {k: form.get(k) for k in FILTERS if k != "remote"}
    if form.get("remote"):
        params["remote"] = True
    params |= {"cursor": cursor or None, "limit": limit}
    names = await reference.names(ctx)
    result: dict[str, Any] = {"items": [], "total": 0, "total_exact": True, "next_cursor": None}
    status = 200
    try:
        result = await ctx.api.get("/offerings", params)
    except ApiError as exc:
        if exc.status != 422:
            raise
        status = 422
        form.take_api_errors(exc, known=set(FILTERS) | {"cursor", "limit"})
        if "cursor" in form.errors or "limit" in form.errors:
            form.errors.pop("cursor", None)
            form.errors.pop("limit", None)
            form.general.append(ctx._("The page link was not valid. The search starts again "
                                      "from the first page."))
    filters = {k: form.get(k) for k in FILTERS}
    return ctx.render(
        "search.html", status=status, form=form, names=names, result=result,
        filters=filters, limit=limit if limit != PAGE_SIZE else None, cursor=cursor,
        labels=search_labels(ctx))


def search_labels(ctx: CtxDep) -> dict[str, str]:
    _ = ctx._
    return {"q": _("Words to search for"), "region": _("Region"),
            "municipality": _("Municipality"), "service_type": _("Service"),
            "language": _("Language of the service"), "remote": _("Remote service")}


@router.get("/offerings/{offering_id}")
async def offering(offering_id: str, ctx: CtxDep) -> HTMLResponse:
    item = await ctx.api.get(api_path("offerings", offering_id))
    return ctx.render("offering.html", item=item, names=await reference.names(ctx))


@router.get("/providers/{provider_id}")
async def provider(provider_id: str, ctx: CtxDep) -> HTMLResponse:
    item = await ctx.api.get(api_path("providers", provider_id))
    offerings = await ctx.api.get("/offerings", {"provider_id": item["id"], "limit": 50})
    return ctx.render("provider.html", item=item, offerings=offerings,
                      names=await reference.names(ctx))


@router.get("/accessibility")
async def accessibility(ctx: CtxDep) -> HTMLResponse:
    return ctx.render("accessibility.html")


APPLY_LISTS = ("regions",)


def apply_labels(ctx: CtxDep) -> dict[str, str]:
    _ = ctx._
    return {"business_id": _("Business ID (Y-tunnus)"), "legal_name": _("Name of the company"),
            "contact_name": _("Contact person"), "contact_email": _("Email"),
            "phone": _("Phone"), "website": _("Website"),
            "description.fi": _("Description in Finnish"),
            "description.sv": _("Description in Swedish"),
            "description.en": _("Description in English"),
            "regions": _("Regions you apply to")}


async def render_apply(ctx: CtxDep, form: Form, *, status: int = 200) -> HTMLResponse:
    if not form.values.get("idempotency_key") or not form.ok:
        form.values["idempotency_key"] = str(uuid.uuid4())
    return ctx.render("apply.html", status=status, form=form, labels=apply_labels(ctx),
                      names=await reference.names(ctx),
                      done=ctx.request.query_params.get("done", ""))


@router.get("/apply")
async def apply_form(ctx: CtxDep) -> HTMLResponse:
    return await render_apply(ctx, Form())


@router.post("/apply")
async def apply(ctx: CtxDep) -> Response:
    """A company or association applies to become a provider: no sign-in needed."""
    form = Form.of(await ctx.request.form(), lists=APPLY_LISTS)
    ctx.check_csrf(form.values.get("csrf"))
    _ = ctx._
    body: dict[str, Any] = {k: form.get(k) or None for k in (
        "business_id", "legal_name", "contact_name", "contact_email", "phone", "website")}
    body["description"] = {code: form.get(f"description.{code}") or None
                           for code in ("fi", "sv", "en")}
    body["regions"] = form.lists.get("regions", [])
    for name in ("business_id", "legal_name", "contact_name", "contact_email",
                 "description.fi"):
        if not form.get(name):
            form.error(name, _("Fill in this field."))
    if not body["regions"]:
        form.error("regions", _("Choose at least one region."))
    if form.ok and await ctx.submit(
            form, "POST", "/providers", body,
            headers={"idempotency-key": form.get("idempotency_key")},
            known=set(apply_labels(ctx)), aliases={"description": "description.fi"},
            messages={409: ("business_id", _("This business ID has applied already."))}) is None:
        return ctx.redirect("/apply", done="sent")
    return await render_apply(ctx, form, status=422)
