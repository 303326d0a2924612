"""What every voucher router needs: the settings, retries and pages."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Request
from pydantic import Field

from kit.pagination import CursorKind, CursorPosition, LimitQuery
from kit.runtime import Runtime
from services.voucher.settings import Settings

IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", description="a retry with the same key and body gets the first "
    "answer (a refusal too) for at least 24 hours and changes nothing; the same key with "
    "another body is a 409")]
Limit = LimitQuery


class AfterId(CursorPosition):
    """Lists in id order (ids are time-ordered): the last id of the previous page."""

    id: str = Field(min_length=1, max_length=36)


class BeforeSeq(CursorPosition):
    """The audit chain, newest first: the position of the last entry of the previous page."""

    seq: int = Field(ge=1)


BUDGETS = CursorKind("voucher.budgets", AfterId)
VOUCHERS = CursorKind("voucher.vouchers", AfterId)
CLAIMS = CursorKind("voucher.claims", AfterId)
PAYMENTS = CursorKind("voucher.payments", AfterId)
AUDIT = CursorKind("voucher.audit-chain", BeforeSeq)
BudgetsAfter = Annotated[AfterId | None, Depends(BUDGETS.query)]
VouchersAfter = Annotated[AfterId | None, Depends(VOUCHERS.query)]
ClaimsAfter = Annotated[AfterId | None, Depends(CLAIMS.query)]
PaymentsAfter = Annotated[AfterId | None, Depends(PAYMENTS.query)]
AuditBefore = Annotated[BeforeSeq | None, Depends(AUDIT.query)]


async def runtime_of(request: Request) -> Runtime:
    """The service's runtime (``async``: FastAPI runs a plain ``def`` dependency in a worker
    thread, a hop per request that issuance under load notices)."""
    rt: Runtime = request.app.state.runtime
    return rt


RuntimeDep = Annotated[Runtime, Depends(runtime_of)]


async def settings_of(rt: RuntimeDep) -> Settings:
    assert isinstance(rt.settings, Settings)
    return rt.settings


SettingsDep = Annotated[Settings, Depends(settings_of)]



def after(position: AfterId | None) -> str | None:
    return position.id if position else None


def page(request: Request, kind: CursorKind[AfterId], items: list[Any],
         limit: int) -> dict[str, Any]:
    """A page of ``items`` (fetched with ``limit``): a cursor when the page is full."""
    last = getattr(items[-1], "id", None) if len(items) == limit and items else None
    return {"items": items,
            "next_cursor": kind.encode(request, AfterId(id=last) if last else None)}


__all__ = [
    "AUDIT",
    "BUDGETS",
    "CLAIMS",
    "PAYMENTS",
    "VOUCHERS",
    "AfterId",
    "AuditBefore",
    "BeforeSeq",
    "BudgetsAfter",
    "ClaimsAfter",
    "IdempotencyKey",
    "Limit",
    "PaymentsAfter",
    "Runtime",
    "RuntimeDep",
    "SettingsDep",
    "VouchersAfter",
    "after",
    "page",
]
