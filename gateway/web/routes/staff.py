"""Pages for a provider's staff: our offerings (publish, change, capacity) and API keys."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from contracts.principal import Role
from gateway.web import reference
from gateway.web.client import ApiError, api_path
from gateway.web.context import Ctx, CtxDep
from gateway.web.forms import Form, calendar_date, euros_to_cents, whole_number

router = APIRouter(prefix="/staff")
LANG_FIELDS = ("title.fi", "title.sv", "title.en", "description.fi", "description.sv",
               "description.en")
LISTS = ("municipalities", "languages", "accessibility")
PREMISES = ("street_address", "postcode", "post_office")
# What a form does not show is sent back as it was (a change of open places keeps the rest).
KEPT = ("region", "service_type", "title", "description", "remote", "municipalities",
        "languages", "unit_price_cents", "next_start", "duration_days", *PREMISES,
        "accessibility", "accessibility_note", "accepting_new_customers")
MAX_CAPACITY = 10_000
MAX_DURATION_DAYS = 730
# API field → form field
ALIASES = {"unit_price_cents": "unit_price", "title": "title.fi", "description": "description.fi"}


def provider_id(ctx: Ctx) -> str:
    return ctx.own(Role.provider)


def offering_labels(ctx: Ctx) -> dict[str, str]:
    _ = ctx._
    return {
        "region": _("Region"), "service_type": _("Service"),
        "title.fi": _("Name in Finnish"), "title.sv": _("Name in Swedish"),
        "title.en": _("Name in English"), "description.fi": _("Description in Finnish"),
        "description.sv": _("Description in Swedish"),
        "description.en": _("Description in English"), "remote": _("Remote service"),
        "municipalities": _("Municipalities where it is given"),
        "languages": _("Languages of the service"), "unit_price": _("Price (euros)"),
        "capacity": _("Open places"), "next_start": _("Next start date"),
        "duration_days": _("Duration in days"),
        "accepting_new_customers": _("We take new customers now"),
        "street_address": _("Street address of the premises"), "postcode": _("Postcode"),
        "post_office": _("Post office"), "accessibility": _("Accessibility of the premises"),
        "accessibility_note": _("More about accessibility (optional)"),
    }


def accessibility_options(ctx: Ctx) -> list[tuple[str, str]]:
    """The registry's accessibility codes with their names in the page's language."""
    _ = ctx._
    return [("step_free_entrance", _("Step-free entrance")),
            ("accessible_toilet", _("Accessible toilet")),
            ("induction_loop", _("Induction loop")), ("lift", _("Lift")),
            ("accessible_parking", _("Accessible parking"))]


def offering_form(item: dict[str, Any]) -> Form:
    """A form filled with an offering's current values."""
    form = Form(values={
        "region": item["region"], "service_type": item["service_type"],
        "remote": "1" if item.get("remote") else "",
        "unit_price": f"{item['unit_price_cents'] / 100:.2f}".replace(".", ","),
        "capacity": str(item["capacity"]), "next_start": str(item["next_start"]),
        "duration_days": str(item["duration_days"]), "version": str(item["version"]),
        "accepting_new_customers": "1" if item.get("accepting_new_customers", True) else "",
        "accessibility_note": item.get("accessibility_note") or "",
    } | {name: item.get(name) or "" for name in PREMISES},
        lists={"municipalities": list(item["municipalities"]),
               "languages": list(item["languages"]),
               "accessibility": list(item.get("accessibility") or [])})
    for name in LANG_FIELDS:
        group, code = name.split(".")
        form.values[name] = (item.get(group) or {}).get(code) or ""
    return form


def new_customers(form: Form, unknown: bool) -> bool:
    """The "we take new customers" checkbox; ``unknown`` when the form had none (a checkbox
    left empty is not sent, so the form marks that it showed one)."""
    if not form.get("new_customers_shown"):
        return unknown
    return bool(form.get("accepting_new_customers"))


def offering_body(ctx: Ctx, form: Form) -> dict[str, Any]:
    """The API's body from the form; what cannot be read is an error on its field."""
    _ = ctx._
    body: dict[str, Any] = {
        "region": form.get("region"), "service_type": form.get("service_type"),
        "remote": bool(form.get("remote")),
        "municipalities": form.lists.get("municipalities", []),
        "languages": form.lists.get("languages", []),
        "accessibility": form.lists.get("accessibility", []),
        "accessibility_note": form.get("accessibility_note") or None,
        "accepting_new_customers": new_customers(form, True),
    } | {name: form.get(name) or None for name in PREMISES}
    given = [name for name in PREMISES if body[name]]
    for name in PREMISES:
        if given and not body[name]:
            form.error(name, _("Give the street address, postcode and post office together, "
                               "or leave all three empty."))
    if body["postcode"] and not (len(body["postcode"]) == 5 and body["postcode"].isascii()
                                 and body["postcode"].isdigit()):
        form.error("postcode", _("Write the postcode as five digits, for example 33100."))
    for group in ("title", "description"):
        body[group] = {code: form.get(f"{group}.{code}") or None for code in ("fi", "sv", "en")}
        if not body[group]["fi"]:
            form.error(f"{group}.fi", _("Write this in Finnish."))
    for name in ("region", "service_type"):
        if not body[name]:
            form.error(name, _("Choose one."))
    if not body["languages"]:
        form.error("languages", _("Choose at least one language."))
    try:
        body["unit_price_cents"] = euros_to_cents(form.get("unit_price"))
    except ValueError:
        form.error("unit_price", _("Write the price in euros, for example 950 or 950,50."))
    try:
        body["capacity"] = whole_number(form.get("capacity"), 0, MAX_CAPACITY)
    except ValueError:
        form.error("capacity", _("Write a whole number from 0 to %(max)s.", max=MAX_CAPACITY))
    try:
        body["duration_days"] = whole_number(form.get("duration_days"), 1, MAX_DURATION_DAYS)
    except ValueError:
        form.error("duration_days",
                   _("Write a whole number from 1 to %(max)s.", max=MAX_DURATION_DAYS))
    try:
        body["next_start"] = calendar_date(form.get("next_start")).isoformat()
    except ValueError:
        form.error("next_start", _("Write the date as dd.mm.yyyy, for example 1.9.2026."))
    return body


async def own_offering(ctx: Ctx, offering_id: str) -> dict[str, Any]:
    """One of our offerings; someone else's is "not found", as the API would answer a change."""
    pid = provider_id(ctx)
    item: dict[str, Any] = await ctx.api.get(api_path("offerings", offering_id))
    if item.get("provider_id") != pid:
        raise ApiError(404, {"title": "Not Found", "detail": "no such offering"})
    return item


async def approved_regions(ctx: Ctx, pid: str) -> list[str]:
    provider = await ctx.api.get(api_path("providers", pid))
    return [a["region"] for a in provider.get("accreditations", [])
            if a.get("state") == "approved"]


async def render_offering_form(ctx: Ctx, form: Form, *, item: dict[str, Any] | None,
                               status: int = 200) -> HTMLResponse:
    pid = provider_id(ctx)
    names = await reference.names(ctx)
    regions = [item["region"]] if item else await approved_regions(ctx, pid)
    if not form.values.get("idempotency_key") or not form.ok:
        form.values["idempotency_key"] = str(uuid.uuid4())  # a new attempt, a new key
    return ctx.render("staff/offering_form.html", status=status, form=form, item=item,
                      names=names, regions=[r for r in names.region_list
                                            if r["code"] in regions],
                      labels=offering_labels(ctx), accessibility=accessibility_options(ctx))


@router.get("/offerings")
async def our_offerings(ctx: CtxDep) -> HTMLResponse:
    pid = provider_id(ctx)
    result = await ctx.api.get("/offerings", {"provider_id": pid, "visibility": "all",
                                              "limit": 200})
    return ctx.render("staff/offerings.html", result=result, names=await reference.names(ctx),
                      done=ctx.request.query_params.get("done", ""))


@router.get("/offerings/new")
async def new_offering(ctx: CtxDep) -> HTMLResponse:
    return await render_offering_form(ctx, Form(values={"accepting_new_customers": "1"},
                                                lists={"languages": [ctx.lang]}), item=None)


@router.post("/offerings/new")
async def create_offering(ctx: CtxDep) -> Response:
    form = Form.of(await ctx.request.form(), lists=LISTS)
    ctx.check_csrf(form.values.get("csrf"))
    provider_id(ctx)
    body = offering_body(ctx, form)
    if form.ok and await ctx.submit(
            form, "POST", "/offerings", body,
            headers={"idempotency-key": form.get("idempotency_key")},
            known=set(offering_labels(ctx)), aliases=ALIASES) is None:
        return ctx.redirect("/staff/offerings", done="created")
    return await render_offering_form(ctx, form, item=None, status=422)


@router.get("/offerings/{offering_id}/edit")
async def edit_offering(offering_id: str, ctx: CtxDep) -> HTMLResponse:
    item = await own_offering(ctx, offering_id)
    return await render_offering_form(ctx, offering_form(item), item=item)


@router.post("/offerings/{offering_id}/edit")
async def update_offering(offering_id: str, ctx: CtxDep) -> Response:
    form = Form.of(await ctx.request.form(), lists=LISTS)
    ctx.check_csrf(form.values.get("csrf"))
    path = api_path("offerings", offering_id)
    item = await own_offering(ctx, offering_id)
    body = offering_body(ctx, form)
    body["region"] = item["region"]  # an offering stays in its region
    body["accepting_new_customers"] = new_customers(form, item["accepting_new_customers"])
    if form.ok:
        saved = await save(ctx, path, body, form, done="updated", aliases=ALIASES,
                           known=set(offering_labels(ctx)), stale=ctx._(
                               "Someone changed this offering meanwhile. The form now shows "
                               "the current version: check it and save again."))
        if isinstance(saved, Response):
            return saved
        if saved == 412:
            item = await ctx.api.get(path)
            fresh = offering_form(item)
            fresh.general = form.general
            form = fresh
    return await render_offering_form(ctx, form, item=item, status=422)


async def save(ctx: Ctx, path: str, body: dict[str, Any], form: Form, *, done: str,
               stale: str, known: set[str], aliases: dict[str, str] | None = None
               ) -> Response | int:
    """``PUT`` an offering as of the version the form was made from: the redirect to our
    offerings, or the status of the refusal with its reasons on the form (412: someone
    changed it meanwhile)."""
    refused = await ctx.submit(form, "PUT", path, body,
                               headers={"if-match": f'"{form.get("version")}"'},
                               known=known, aliases=aliases, messages={412: (None, stale)})
    return refused if refused is not None else ctx.redirect("/staff/offerings", done=done)


@router.get("/offerings/{offering_id}/capacity")
async def capacity_form(offering_id: str, ctx: CtxDep) -> HTMLResponse:
    item = await own_offering(ctx, offering_id)
    return ctx.render("staff/capacity.html", item=item, form=offering_form(item),
                      labels=capacity_labels(ctx))


def capacity_labels(ctx: Ctx) -> dict[str, str]:
    return {"capacity": ctx._("Open places"),
            "accepting_new_customers": ctx._("We take new customers now")}


@router.post("/offerings/{offering_id}/capacity")
async def change_capacity(offering_id: str, ctx: CtxDep) -> Response:
    form = Form.of(await ctx.request.form())
    ctx.check_csrf(form.values.get("csrf"))
    path = api_path("offerings", offering_id)
    item = await own_offering(ctx, offering_id)
    try:
        capacity = whole_number(form.get("capacity"), 0, MAX_CAPACITY)
    except ValueError:
        form.error("capacity", ctx._("Write a whole number from 0 to %(max)s.",
                                     max=MAX_CAPACITY))
    else:
        body = {k: item[k] for k in KEPT if k in item}
        body["capacity"] = capacity
        body["accepting_new_customers"] = new_customers(form, item["accepting_new_customers"])
        saved = await save(ctx, path, body, form, done="capacity",
                           known={"capacity", "accepting_new_customers"},
                           stale=ctx._("Someone changed this offering meanwhile. Check the "
                                       "current number and save again."))
        if isinstance(saved, Response):
            return saved
    form.values["version"] = str(item["version"])
    return ctx.render("staff/capacity.html", status=422, item=item, form=form,
                      labels=capacity_labels(ctx))


@router.get("/api-keys")
async def api_keys(ctx: CtxDep) -> HTMLResponse:
    return await render_keys(ctx, Form(), created=None)


async def render_keys(ctx: Ctx, form: Form, *, created: dict[str, Any] | None,
                      status: int = 200) -> HTMLResponse:
    pid = provider_id(ctx)
    cursor = ctx.request.query_params.get("cursor", "")[:600] or None
    keys = await ctx.api.get(api_path("providers", pid, "api-keys"),
                             {"limit": 200, "cursor": cursor})
    resp = ctx.render("staff/api_keys.html", status=status, keys=keys, form=form,
                      created=created, done=ctx.request.query_params.get("done", ""),
                      labels={"name": ctx._("Name of the key")})
    resp.headers["cache-control"] = "no-store"  # a new key is shown once, never cached
    return resp


@router.post("/api-keys")
async def create_key(ctx: CtxDep) -> Response:
    form = Form.of(await ctx.request.form())
    ctx.check_csrf(form.values.get("csrf"))
    pid = provider_id(ctx)
    if not form.get("name"):
        form.error("name", ctx._("Give the key a name, for example the system that uses it."))
        return await render_keys(ctx, form, created=None, status=422)
    try:
        reply = await ctx.api.send("POST", api_path("providers", pid, "api-keys"),
                                   body={"name": form.get("name")},
                                   headers={"idempotency-key": str(uuid.uuid4())})
    except ApiError as exc:
        if exc.status != 422:
            raise
        form.take_api_errors(exc, known={"name"})
        return await render_keys(ctx, form, created=None, status=422)
    return await render_keys(ctx, Form(), created=reply.data)


@router.post("/api-keys/{key_id}/revocation")
async def revoke_key(key_id: str, ctx: CtxDep) -> Response:
    form = Form.of(await ctx.request.form())
    ctx.check_csrf(form.values.get("csrf"))
    pid = provider_id(ctx)
    await ctx.api.send("POST", api_path("providers", pid, "api-keys", key_id, "revocation"))
    return ctx.redirect("/staff/api-keys", done="revoked")
