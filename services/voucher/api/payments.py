"""Payment batches of a region: made, exported, confirmed or failed by its admins."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from contracts.principal import Principal, Role
from kit.auth import require
from kit.errors import problems
from kit.idempotency import once_response
from services.voucher.api.deps import (
    PAYMENTS,
    IdempotencyKey,
    Limit,
    PaymentsAfter,
    RuntimeDep,
    after,
    page,
)
from services.voucher.schemas import BatchFailureIn, Page, PaymentBatchOut
from services.voucher.use_cases import payments

router = APIRouter(prefix="/payments", tags=["payments"])
Admin = Depends(require(Role.region_admin))


@router.post("", status_code=201, response_model=PaymentBatchOut,
             summary="Make a payment batch of the region's approved claims",
             description="Every approved claim not yet in a batch (at most 5 000; the rest go "
             "in the next one) becomes a pending transfer from the provider's PAYABLE account "
             "to the region's CLEARING account, one line per budget, provider and funder. 409 "
             "when nothing is waiting. Audited.", responses=problems(401, 403, 409, 422))
async def create(rt: RuntimeDep, principal: Principal = Admin,
                 idempotency_key: IdempotencyKey = None) -> JSONResponse:
    once = await payments.create(rt.db, principal, idempotency_key)
    return once_response(once, 201)


@router.get("", response_model=Page[PaymentBatchOut], summary="The region's payment batches",
            responses=problems(401, 403, 422))
async def list_batches(request: Request, rt: RuntimeDep,
                       principal: Principal = Admin, limit: Limit = 50,
                       position: PaymentsAfter = None) -> dict[str, Any]:
    items = await payments.list_(rt.db, principal, after=after(position), limit=limit)
    return page(request, PAYMENTS, items, limit)


@router.get("/{batch_id}", response_model=PaymentBatchOut, summary="One payment batch",
            description="With `format=csv`: the file for the region's payment system "
            "(batch, provider, business ID, name, funder, amount in cents and in euro).",
            responses={**problems(401, 403, 404),
                       200: {"content": {"text/csv": {"schema": {"type": "string"}}}}})
async def get_batch(batch_id: str, rt: RuntimeDep, principal: Principal = Admin,
                    format: Annotated[Literal["json", "csv"], Query()] = "json"
                    ) -> PaymentBatchOut | Response:
    if format == "csv":
        text, name = await payments.export(rt.db, principal, batch_id)
        return Response(text, media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    return await payments.get(rt.db, principal, batch_id)


@router.post("/{batch_id}/confirmation", response_model=PaymentBatchOut,
             summary="The region confirms the batch was paid",
             description="Posts the batch's transfers; its claims become `paid`. Once.",
             responses=problems(401, 403, 404, 409, 422))
async def confirm(batch_id: str, rt: RuntimeDep,
                  principal: Principal = Admin,
                  idempotency_key: IdempotencyKey = None) -> JSONResponse:
    once = await payments.confirm(rt.db, principal, batch_id, idempotency_key)
    return once_response(once, 200)


@router.post("/{batch_id}/failure", response_model=PaymentBatchOut,
             summary="The export or payment failed",
             description="Voids the batch's transfers; its claims wait for the next batch. "
             "Once, with a reason.", responses=problems(401, 403, 404, 409, 422))
async def fail(batch_id: str, body: BatchFailureIn, rt: RuntimeDep,
               principal: Principal = Admin,
               idempotency_key: IdempotencyKey = None) -> JSONResponse:
    once = await payments.fail(rt.db, principal, batch_id, body, idempotency_key)
    return once_response(once, 200)
