"""The pages, one module per audience: ``public`` (anyone), ``signin``, ``staff`` and
``delivery`` (provider staff), ``admin``, ``casework``, ``money``, ``settlement``,
``reports``, ``assignments`` and ``deadletters`` (region admins), ``vouchers`` (a voucher's
holder)."""

from fastapi import APIRouter

from gateway.web.routes import (
    admin,
    assignments,
    casework,
    deadletters,
    delivery,
    money,
    public,
    reports,
    settlement,
    signin,
    staff,
    vouchers,
)

router = APIRouter(include_in_schema=False)
for module in (public, signin, staff, delivery, admin, casework, money, settlement, reports,
               vouchers, assignments, deadletters):
    router.include_router(module.router)
