"""Offering imports: a provider's systems publish many offerings in one request."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from kit.auth import PrincipalDep
from kit.errors import problems
from kit.idempotency import IdempotencyKeyHeader, once_response
from kit.runtime import RuntimeDep
from services.registry.schemas import MAX_IMPORT_ROWS, OfferingImportIn, OfferingImportOut
from services.registry.use_cases import offering_imports

router = APIRouter(prefix="/offerings", tags=["offerings"])


@router.post(
    "/imports",
    status_code=201,
    response_model=OfferingImportOut,
    summary="Import offerings",
    description=f"By the provider's staff or systems: publishes 1 to {MAX_IMPORT_ROWS} "
    "offerings (each as `POST /offerings` takes it) in one transaction, all or none. The "
    "answer reports every row in the order of `items`: its index and the new offering's id. "
    "A wrong row refuses the whole import with a 422 whose `errors` name the row and the "
    "field (`items.<index>.<field>`), also for a region where the provider is not approved; "
    "nothing is written then. Emits `offering.published` for each offering. Accepts "
    "`Idempotency-Key`: a retry returns the first report and publishes nothing again. "
    "Through the gateway the body is limited to its `max_body_bytes` (1 MiB by default).",
    responses=problems(401, 403, 404, 422),
)
async def import_offerings(body: OfferingImportIn, rt: RuntimeDep, principal: PrincipalDep,
                           idempotency_key: IdempotencyKeyHeader = None) -> JSONResponse:
    once = await offering_imports.import_offerings(rt.db, body, principal=principal,
                                                   key=idempotency_key)
    return once_response(once, 201)
