from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header
from fastapi.responses import JSONResponse

from contracts.principal import Principal, Role
from kit.app import RuntimeDep
from kit.auth import PrincipalDep, require
from kit.errors import Unauthorized, problems
from services.registry import repository, service
from services.registry.schemas import (
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyList,
    ApiKeyOut,
    VerifyIn,
    VerifyOut,
)
from services.registry.settings import Settings

router = APIRouter(tags=["credentials"])


def _secret(rt: RuntimeDep) -> str:
    settings = rt.settings
    assert isinstance(settings, Settings)
    return settings.api_key_secret


@router.post(
    "/providers/{provider_id}/api-keys",
    status_code=201,
    response_model=ApiKeyCreated,
    summary="Create an API key for the provider's systems",
    description="The key is shown once, in this answer; only a keyed hash is stored. A retry "
    "with the same `Idempotency-Key` returns the key's record without the secret.",
    responses=problems(401, 404, 422),
)
async def create(provider_id: str, body: ApiKeyIn, rt: RuntimeDep, principal: PrincipalDep,
                 idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
                 ) -> JSONResponse:
    outcome = await service.create_api_key(rt.db, provider_id, body.name, principal=principal,
                                           secret=_secret(rt), key=idempotency_key)
    return JSONResponse(outcome.body, status_code=outcome.status_code)


@router.get("/providers/{provider_id}/api-keys", response_model=ApiKeyList,
            summary="The provider's API keys (never the secrets)", responses=problems(401, 404))
async def list_keys(provider_id: str, rt: RuntimeDep, principal: PrincipalDep) -> ApiKeyList:
    service._own_provider(principal, provider_id)
    async with rt.db.reader() as s:
        keys = await repository.api_keys(s, provider_id)
    return ApiKeyList(items=[service.api_key_out(k) for k in keys])


@router.post("/providers/{provider_id}/api-keys/{key_id}/revocation", response_model=ApiKeyOut,
             summary="Revoke an API key", responses=problems(401, 404))
async def revoke(provider_id: str, key_id: str, rt: RuntimeDep,
                 principal: PrincipalDep) -> ApiKeyOut:
    return await service.revoke_api_key(rt.db, provider_id, key_id, principal=principal)


@router.post(
    "/internal/credentials/verify",
    response_model=VerifyOut,
    summary="Verify a provider API key (for the gateway)",
    responses=problems(401, 403),
    tags=["internal"],
)
async def verify(body: VerifyIn, rt: RuntimeDep,
                 _: Annotated[Principal, Depends(require(Role.service))]) -> VerifyOut:
    k = await service.verify_api_key(rt.db, body.api_key, secret=_secret(rt))
    if k is None:
        raise Unauthorized("unknown or revoked API key")
    return VerifyOut(provider_id=k.provider_id, key_id=k.id, prefix=k.prefix)
