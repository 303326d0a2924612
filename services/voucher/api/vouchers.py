"""Vouchers: issued by region admins, seen by their holders, chosen providers and admins."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError

from contracts.principal import Principal, Role
from kit.auth import PrincipalDep, require
from kit.errors import FieldError, Problem, Unprocessable, problems
from kit.idempotency import once_response
from services.voucher.api.deps import (
    VOUCHERS,
    IdempotencyKey,
    Limit,
    RuntimeDep,
    SettingsDep,
    VouchersAfter,
    after,
    page,
)
from services.voucher.domain.lifecycle import VoucherState
from services.voucher.schemas import (
    CancelIn,
    ChoiceIn,
    ChoiceOut,
    DeclineIn,
    EvidenceIn,
    MilestoneIn,
    Page,
    RatingIn,
    RatingOut,
    TransferIn,
    VoucherIn,
    VoucherOut,
)
from services.voucher.use_cases import (
    bulk,
    choices,
    delivery,
    issuance,
    lifecycle,
    ratings,
    vouchers,
)
from services.voucher.use_cases.bulk import BulkReport

router = APIRouter(prefix="/vouchers", tags=["vouchers"])


class UnsupportedMediaType(Problem):
    status, title = 415, "Unsupported Media Type"


class BulkIn(BaseModel):
    budget_id: str = Field(max_length=36)
    rows: list[dict[str, Any]] = Field(max_length=10_000)
Admin = Depends(require(Role.region_admin))
SEEN = ("The holder and the region's admins see the voucher code, the profile and a company "
        "holder's business ID; the chosen provider sees neither. Nobody sees the identity "
        "code again after issuance. Anyone else is told the voucher does not exist (404).")


@router.post("", status_code=201, response_model=VoucherOut, summary="Issue a voucher",
             description="By a region admin, from an open budget of their region. A person is "
             "named by henkilötunnus (validated, 2023 century signs; individual numbers 900–999 "
             "only when the service allows temporary numbers), keyed with the same keyed hash "
             "the gateway makes at login, and kept only encrypted; a company by Y-tunnus. The "
             "value is split across the budget's funders in proportion to what each still "
             "holds. The payment scheme is the service type's. 409 when the budget does not "
             "hold the value. " + SEEN, responses=problems(401, 403, 409, 422))
async def issue(body: VoucherIn, rt: RuntimeDep, settings: SettingsDep,
                principal: Principal = Admin,
                idempotency_key: IdempotencyKey = None) -> JSONResponse:
    once = await issuance.issue(rt.db, settings, principal, body, idempotency_key)
    return once_response(once, 201)


@router.get("", response_model=Page[VoucherOut], summary="Vouchers I may see",
            description="A citizen: their own vouchers. A provider: the vouchers that chose "
            "it. A region admin: the region's vouchers. " + SEEN,
            responses=problems(401, 403, 422))
async def list_vouchers(request: Request, rt: RuntimeDep,
                        principal: PrincipalDep, limit: Limit = 50,
                        position: VouchersAfter = None,
                        state: Annotated[VoucherState | None, Query()] = None
                        ) -> dict[str, Any]:
    items = await vouchers.list_(rt.db, principal, state=state.value if state else None,
                                 after=after(position), limit=limit)
    return page(request, VOUCHERS, items, limit)


@router.get("/{voucher_id}", response_model=VoucherOut, summary="One voucher",
            description=SEEN, responses=problems(401, 404))
async def get_voucher(voucher_id: str, rt: RuntimeDep, principal: PrincipalDep) -> VoucherOut:
    return await vouchers.get(rt.db, principal, voucher_id)


@router.get("/{voucher_id}/choices", response_model=list[ChoiceOut],
            summary="The voucher's choices of provider, oldest first",
            description="For the holder and the region's admins.",
            responses=problems(401, 404))
async def choice_history(voucher_id: str, rt: RuntimeDep, principal: PrincipalDep
                         ) -> list[ChoiceOut]:
    return await vouchers.choices(rt.db, principal, voucher_id)


@router.post("/{voucher_id}/choice", response_model=VoucherOut, summary="Choose a provider",
             description="The holder (until the choice deadline), or a region admin on the "
             "holder's behalf (with a reason; audited), chooses an offering: published, in the "
             "voucher's region, of its service type, by a provider approved there, with an "
             "open place. Choosing again changes the provider until the service starts; the "
             "place of the earlier offering is given back. 409 when the offering cannot be "
             "chosen (the detail says why) or has no open place.",
             responses=problems(401, 403, 404, 409, 422))
async def choose(voucher_id: str, body: ChoiceIn, rt: RuntimeDep,
                 principal: PrincipalDep, idempotency_key: IdempotencyKey = None
                 ) -> JSONResponse:
    once = await choices.choose(rt.db, principal, voucher_id, body, idempotency_key)
    return once_response(once, 200)


PROVIDER = "By the voucher's chosen provider only. "


@router.post("/{voucher_id}/start", response_model=VoucherOut, summary="Start the service",
             description=PROVIDER + "The first milestone: `start` is reported and, when the "
             "payment scheme pays for it, claimed.", responses=problems(401, 403, 404, 409, 422))
async def start(voucher_id: str, body: EvidenceIn, rt: RuntimeDep, settings: SettingsDep,
                principal: PrincipalDep, idempotency_key: IdempotencyKey = None
                ) -> JSONResponse:
    once = await delivery.start(rt.db, settings, principal, voucher_id, body, idempotency_key)
    return once_response(once, 200)


@router.post("/{voucher_id}/milestones", response_model=VoucherOut,
             summary="Report a milestone with evidence",
             description=PROVIDER + "A milestone of the payment scheme other than start and "
             "completion (e.g. `outcome` after completion, with `outcome` employed or "
             "studying); it is claimed at once.", responses=problems(401, 403, 404, 409, 422))
async def milestone(voucher_id: str, body: MilestoneIn, rt: RuntimeDep,
                    principal: PrincipalDep, idempotency_key: IdempotencyKey = None
                    ) -> JSONResponse:
    once = await delivery.milestone(rt.db, principal, voucher_id, body, idempotency_key)
    return once_response(once, 200)


@router.post("/{voucher_id}/completion", response_model=VoucherOut,
             summary="Complete the service", description=PROVIDER + "Reports and claims the "
             "`completion` milestone; the outcome can be claimed until the outcome deadline.",
             responses=problems(401, 403, 404, 409, 422))
async def complete(voucher_id: str, body: EvidenceIn, rt: RuntimeDep, settings: SettingsDep,
                   principal: PrincipalDep, idempotency_key: IdempotencyKey = None
                   ) -> JSONResponse:
    once = await delivery.complete(rt.db, settings, principal, voucher_id, body, idempotency_key)
    return once_response(once, 200)


@router.post("/{voucher_id}/claims", response_model=VoucherOut,
             summary="Claim a reported milestone again",
             description=PROVIDER + "After a rejection, with new evidence.",
             responses=problems(401, 403, 404, 409, 422))
async def claim_again(voucher_id: str, body: MilestoneIn, rt: RuntimeDep,
                      principal: PrincipalDep,
                      idempotency_key: IdempotencyKey = None) -> JSONResponse:
    once = await delivery.claim_again(rt.db, principal, voucher_id, body, idempotency_key)
    return once_response(once, 200)


@router.post("/{voucher_id}/declination", response_model=VoucherOut,
             summary="Decline the voucher before the start",
             description=PROVIDER + "With a reason code; the holder chooses again "
             "(`voucher.released`).", responses=problems(401, 403, 404, 409, 422))
async def decline(voucher_id: str, body: DeclineIn, rt: RuntimeDep,
                  principal: PrincipalDep, idempotency_key: IdempotencyKey = None
                  ) -> JSONResponse:
    once = await delivery.decline(rt.db, principal, voucher_id, body, idempotency_key)
    return once_response(once, 200)


@router.post("/{voucher_id}/cancellation", response_model=VoucherOut,
             summary="Cancel a voucher", description="By an admin of its region, with a "
             "reason code and text; before or after the start. What is left on the voucher "
             "(not claimed) goes back to the budget; a started voucher's outcome becomes "
             "`not_achieved`. Audited.", responses=problems(401, 403, 404, 409, 422))
async def cancel(voucher_id: str, body: CancelIn, rt: RuntimeDep,
                 principal: Principal = Admin, idempotency_key: IdempotencyKey = None
                 ) -> JSONResponse:
    once = await lifecycle.cancel(rt.db, principal, voucher_id, body, idempotency_key)
    return once_response(once, 200)


@router.post("/{voucher_id}/transfer", response_model=VoucherOut,
             summary="Transfer a started voucher to another provider",
             description="By an admin of its region, with a reason (e.g. the provider was "
             "suspended: such vouchers are flagged). Claims already made stay with the "
             "provider that made them; the rest of the value follows the voucher. Audited.",
             responses=problems(401, 403, 404, 409, 422))
async def transfer(voucher_id: str, body: TransferIn, rt: RuntimeDep,
                   principal: Principal = Admin, idempotency_key: IdempotencyKey = None
                   ) -> JSONResponse:
    once = await lifecycle.transfer(rt.db, principal, voucher_id, body, idempotency_key)
    return once_response(once, 200)


@router.post("/{voucher_id}/rating", status_code=201, response_model=RatingOut,
             summary="Rate the provider of a completed voucher",
             description="By the holder, once: 1–5 stars and an optional comment (the comment "
             "stays in this service; `rating.given` carries the stars).",
             responses=problems(401, 403, 404, 409, 422))
async def rate(voucher_id: str, body: RatingIn, rt: RuntimeDep,
               principal: PrincipalDep, idempotency_key: IdempotencyKey = None
               ) -> JSONResponse:
    once = await ratings.rate(rt.db, principal, voucher_id, body, idempotency_key)
    return once_response(once, 201)


BULK_JSON = {"type": "object", "required": ["budget_id", "rows"], "properties": {
    "budget_id": {"type": "string", "format": "uuid"},
    "rows": {"type": "array", "maxItems": 10_000, "items": {"type": "object"},
             "description": "each row as the body of POST /vouchers, without budget_id"}}}


@router.post(
    "/bulk-issuance", status_code=201, response_model=BulkReport,
    summary="Issue many vouchers at once (CSV or JSON)",
    description="By a region admin, from one open budget: up to 10 000 rows (the service's "
    "`bulk_max_rows`). JSON: `{budget_id, rows: [...]}`, each row shaped like the body of "
    "`POST /vouchers`. CSV (`text/csv`, `?budget_id=`): a header row naming columns among "
    + ", ".join(f"`{c}`" for c in bulk.CSV_COLUMNS) + " (a person by `henkilotunnus`, a "
    "company by `business_id`; `languages` separated by spaces or semicolons). Every row is "
    "checked on its own: the report lists each row's line (the CSV's physical line, the "
    "header being line 1; the JSON row's position from 1), and for a refused row the field "
    "and the reason. Rows the budget cannot cover any more are refused in order. The whole "
    "request is idempotent by `Idempotency-Key`. Size: through the gateway this route takes "
    "request bodies up to 8 MiB (other routes 1 MiB), enough for 10 000 JSON rows of a few "
    "hundred bytes each; a larger body is refused with a 413 problem before it reaches the "
    "service. A CSV file of 10 000 rows is about 1 MB: the compact way to send a large batch.",
    openapi_extra={"requestBody": {"required": True, "content": {
        "application/json": {"schema": BULK_JSON},
        "text/csv": {"schema": {"type": "string"}}}}},
    responses=problems(401, 403, 409, 415, 422))
async def bulk_issue(request: Request, rt: RuntimeDep, settings: SettingsDep,
                     principal: Principal = Admin, idempotency_key: IdempotencyKey = None,
                     budget_id: Annotated[str | None, Query(max_length=36)] = None
                     ) -> JSONResponse:
    raw = await request.body()
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "text/csv":
        if not budget_id:
            raise Unprocessable.field("budget_id", "is required (query) with a CSV file")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise Unprocessable.field("file", "is not UTF-8 text") from None
        rows = bulk.rows_of_csv(text, settings.bulk_max_rows)
    elif kind == "application/json":
        try:
            body = BulkIn.model_validate_json(raw)
        except ValidationError as exc:
            raise Unprocessable("the body is not {budget_id, rows}", errors=[
                FieldError(field=".".join(str(p) for p in e["loc"]) or "body",
                           message=e["msg"]) for e in exc.errors(include_input=False)[:20]]
                ) from None
        budget_id = body.budget_id
        rows = [(i + 1, row) for i, row in enumerate(body.rows)]
    else:
        raise UnsupportedMediaType("send application/json or text/csv")
    once = await bulk.issue_many(rt.db, settings, principal, budget_id, rows, idempotency_key,
                                 bulk.request_digest(settings, raw))
    return once_response(once, 201)
