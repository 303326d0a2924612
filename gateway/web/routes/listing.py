"""The list of vouchers a signed-in person may see (a provider's, a region's), one page at a
time, filtered by state: the API decides whose vouchers they are."""

from __future__ import annotations

from fastapi.responses import Response

from gateway.web import reference
from gateway.web.client import ApiError
from gateway.web.context import Ctx


async def voucher_list(ctx: Ctx, *, states: tuple[str, ...], template: str,
                       back: str) -> Response:
    """The page ``template`` with the API's ``/vouchers`` page; an unknown state is ignored and
    a refused cursor leads back to ``back``, the list's first page."""
    query = ctx.request.query_params
    state = query.get("state", "")
    if state not in states:
        state = ""
    cursor = query.get("cursor", "")[:600] or None
    try:
        result = await ctx.api.get("/vouchers", {"state": state or None, "cursor": cursor,
                                                 "limit": 50})
    except ApiError as exc:
        if exc.status != 422:
            raise
        return ctx.redirect(back)
    return ctx.render(template, result=result, state=state, states=states,
                      names=await reference.names(ctx))
