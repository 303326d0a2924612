"""The pages, one module per audience: ``public`` (anyone), ``signin``, ``staff`` (provider
staff), ``admin`` (region admins)."""

from fastapi import APIRouter

from gateway.web.routes import admin, public, signin, staff

router = APIRouter(include_in_schema=False)
for module in (public, signin, staff, admin):
    router.include_router(module.router)
