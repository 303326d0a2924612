"""Principal tokens on the service side: every service verifies the token the gateway forwards
(header ``X-Seteli-Principal``) and enforces ownership itself (invariant 4 in
docs/ARCHITECTURE.md; the service's ``access.py`` holds its rules)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request

from contracts.principal import HEADER, InvalidPrincipal, Principal, Role, decode
from kit.errors import Forbidden, Unauthorized


def _secret(request: Request) -> str:
    rt = getattr(request.app.state, "runtime", None)
    if rt is not None:
        return str(rt.settings.principal_secret)
    return str(request.app.state.principal_secret)


async def optional_principal(request: Request) -> Principal | None:
    token = request.headers.get(HEADER)
    if not token:
        return None
    try:
        return decode(token, _secret(request))
    except InvalidPrincipal as exc:
        raise Unauthorized("principal token is invalid or expired") from exc


async def principal(request: Request) -> Principal:
    p = await optional_principal(request)
    if p is None:
        raise Unauthorized("authentication required")
    return p


OptionalPrincipalDep = Annotated[Principal | None, Depends(optional_principal)]
PrincipalDep = Annotated[Principal, Depends(principal)]


def require(*roles: Role) -> Callable[[Request], Coroutine[Any, Any, Principal]]:
    """Dependency: a principal with one of ``roles``, else 401/403."""

    async def dep(request: Request) -> Principal:
        p = await principal(request)
        if p.role not in roles:
            raise Forbidden("this action is not available to your role")
        return p

    return dep
