"""Pieces every registry router uses: ownership checked before the body is read."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from contracts.principal import Principal
from kit.auth import PrincipalDep
from services.registry import access


async def own_provider(provider_id: str, principal: PrincipalDep) -> Principal:
    """The caller is staff (or a system) of ``provider_id``; for anyone else the provider does
    not exist (404), decided before the request body is even read."""
    access.ensure_own_provider(principal, provider_id)
    return principal


OwnProviderDep = Annotated[Principal, Depends(own_provider)]
