"""Internal views of the matching service's read models (not routed by the gateway)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from kit.errors import NotFound, problems
from kit.runtime import RuntimeDep
from services.matching.models import ProviderView

router = APIRouter(prefix="/internal/read-models", tags=["internal"])


class ProviderViewOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    provider_id: str
    business_id: str
    legal_name: str
    regions: list[str]
    status: str
    updated_at: datetime


@router.get("/providers/{provider_id}", response_model=ProviderViewOut, responses=problems(404))
async def provider_view(provider_id: str, rt: RuntimeDep) -> ProviderViewOut:
    async with rt.db.reader() as s:
        view = await s.get(ProviderView, provider_id)
    if view is None:
        raise NotFound("provider not in this service's read model (yet)")
    return ProviderViewOut.model_validate(view)
