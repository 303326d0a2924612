"""Provider API keys: created, listed and revoked by the provider's staff; verified for the
gateway."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from contracts.principal import Principal, Role
from kit.auth import require
from kit.errors import Unauthorized, problems
from kit.idempotency import IdempotencyKeyHeader, once_response
from kit.pagination import CursorKind, LimitQuery
from kit.runtime import RuntimeDep
from services.registry.api.common import OwnProviderDep
from services.registry.schemas import (
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyList,
    ApiKeyOut,
    ApiKeyPosition,
    VerifyIn,
    VerifyOut,
)
from services.registry.settings import Settings
from services.registry.use_cases import credentials

router = APIRouter(tags=["credentials"])
KEYS = CursorKind("registry.api-keys", ApiKeyPosition)


def _secret(rt: RuntimeDep) -> str:
    settings = rt.settings
    assert isinstance(settings, Settings)
    return settings.api_key_secret


@router.post(
    "/providers/{provider_id}/api-keys",
    status_code=201,
    response_model=ApiKeyCreated,
    summary="Create an API key for the provider's systems",
    description="By the provider's own staff, in a session (an API key cannot create keys: "
    "403). The key (`stl_<prefix>_<secret>`) is shown "
    "once, in this answer; only its HMAC-SHA256 under the service's secret and its visible "
    "prefix are stored. A retry with the same `Idempotency-Key` returns the key's record "
    "without the secret (`key` is empty): revoke it and make a new one if the first answer "
    "was lost.",
    responses=problems(401, 403, 404, 422),
)
async def create(provider_id: str, body: ApiKeyIn, rt: RuntimeDep, principal: OwnProviderDep,
                 idempotency_key: IdempotencyKeyHeader = None) -> JSONResponse:
    once = await credentials.create(rt.db, provider_id, body.name, principal=principal,
                                    secret=_secret(rt), key=idempotency_key)
    return once_response(once, 201)


@router.get(
    "/providers/{provider_id}/api-keys",
    response_model=ApiKeyList,
    summary="The provider's API keys (never the secrets)",
    description="By the provider's own staff: every key with its prefix, creation and "
    "revocation time, oldest first; cursor paginated.",
    responses=problems(401, 404, 422),
)
async def list_keys(
    provider_id: str, request: Request, rt: RuntimeDep, principal: OwnProviderDep,
    after: Annotated[ApiKeyPosition | None, Depends(KEYS.query)], limit: LimitQuery = 50,
) -> ApiKeyList:
    page = await credentials.list_keys(rt.db, provider_id, principal=principal, after=after,
                                       limit=limit)
    return ApiKeyList(items=page.items, next_cursor=KEYS.encode(request, page.next))


@router.post(
    "/providers/{provider_id}/api-keys/{key_id}/revocation",
    response_model=ApiKeyOut,
    summary="Revoke an API key",
    description="By the provider's own staff, in a session (an API key cannot revoke keys: "
    "403). The key stops working at once in the registry "
    "(the gateway may remember a successful check for a few seconds). Revoking twice "
    "changes nothing.",
    responses=problems(401, 403, 404),
)
async def revoke(provider_id: str, key_id: str, rt: RuntimeDep,
                 principal: OwnProviderDep) -> ApiKeyOut:
    return await credentials.revoke(rt.db, provider_id, key_id, principal=principal)


@router.post(
    "/internal/credentials/verify",
    response_model=VerifyOut,
    summary="Verify a provider API key (for the gateway)",
    description="Only for the `service` role (the gateway). 200 with the key's provider for a "
    "live key; 401 for anything else, without telling an unknown prefix from a wrong secret "
    "or a revoked key.",
    responses=problems(401, 403, 422),
    tags=["internal"],
)
async def verify(body: VerifyIn, rt: RuntimeDep,
                 _: Annotated[Principal, Depends(require(Role.service))]) -> VerifyOut:
    k = await credentials.verify(rt.db, body.api_key, secret=_secret(rt))
    if k is None:
        raise Unauthorized("unknown or revoked API key")
    return VerifyOut(provider_id=k.provider_id, key_id=k.id, prefix=k.prefix)
