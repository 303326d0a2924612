"""Budgets of a region: opened, topped up and closed by its admins."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from contracts.principal import Principal, Role
from kit.auth import require
from kit.errors import problems
from kit.idempotency import once_response
from services.voucher.api.deps import (
    BUDGETS,
    BudgetsAfter,
    IdempotencyKey,
    Limit,
    RuntimeDep,
    after,
    page,
)
from services.voucher.schemas import BudgetIn, BudgetOut, CloseIn, Page, TopUpIn
from services.voucher.use_cases import budgets

router = APIRouter(prefix="/budgets", tags=["budgets"])
Admin = Depends(require(Role.region_admin))
USAGE = ("Usage per funder is the sum of the ledger's transfers (kept as running totals in "
         "the transactions that write them, so reading it does not grow with the vouchers): "
         "`funded` (put in, less what went back at closing), `committed` (still on vouchers, "
         "claims waiting for a decision included), `spent` (approved claims), `pending`, "
         "`released` (came back from vouchers) and `available` (can still be issued); "
         "funded = available + committed + spent.")


@router.post("", status_code=201, response_model=BudgetOut, summary="Open a budget",
             description="By a region admin, for their region: one service type, one period, "
             "one or more funders (`region` or municipality codes: the alliance model). Each "
             "funder's money is a transfer from its FUNDER account to the budget's account "
             "for that funder. " + USAGE, responses=problems(401, 403, 409, 422))
async def open_budget(body: BudgetIn, rt: RuntimeDep,
                      principal: Principal = Admin,
                      idempotency_key: IdempotencyKey = None) -> JSONResponse:
    once = await budgets.open_budget(rt.db, principal, body, idempotency_key)
    return once_response(once, 201)


@router.get("", response_model=Page[BudgetOut], summary="The region's budgets",
            description=USAGE, responses=problems(401, 403, 422))
async def list_budgets(request: Request, rt: RuntimeDep,
                       principal: Principal = Admin, limit: Limit = 50,
                       position: BudgetsAfter = None) -> dict[str, Any]:
    items = await budgets.list_(rt.db, principal, after=after(position), limit=limit)
    return page(request, BUDGETS, items, limit)


@router.get("/{budget_id}", response_model=BudgetOut, summary="One budget and its usage",
            description=USAGE, responses=problems(401, 403, 404))
async def get_budget(budget_id: str, rt: RuntimeDep,
                     principal: Principal = Admin) -> BudgetOut:
    return await budgets.get(rt.db, principal, budget_id)


@router.post("/{budget_id}/top-ups", response_model=BudgetOut, summary="Top up a budget",
             description="One funder adds money (a new funder joins this way too); audited "
             "with the reason.", responses=problems(401, 403, 404, 409, 422))
async def top_up(budget_id: str, body: TopUpIn, rt: RuntimeDep,
                 principal: Principal = Admin,
                 idempotency_key: IdempotencyKey = None) -> JSONResponse:
    once = await budgets.top_up(rt.db, principal, budget_id, body, idempotency_key)
    return once_response(once, 200)


@router.post("/{budget_id}/closure", response_model=BudgetOut, summary="Close a budget",
             description="Nothing more is issued from it; what it still holds goes back to "
             "its funders, and so does what vouchers give back later.",
             responses=problems(401, 403, 404, 409, 422))
async def close(budget_id: str, body: CloseIn, rt: RuntimeDep,
                principal: Principal = Admin,
                idempotency_key: IdempotencyKey = None) -> JSONResponse:
    once = await budgets.close(rt.db, principal, budget_id, body, idempotency_key)
    return once_response(once, 200)
