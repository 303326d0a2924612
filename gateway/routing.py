"""Which service owns which public resource: ``/api/v1/<resource>/...`` → service."""

from __future__ import annotations

ROUTES: dict[str, str] = {
    "providers": "registry",
    "offerings": "registry",
    "service-types": "registry",
    "regions": "registry",
    "budgets": "voucher",
    "vouchers": "voucher",
    "claims": "voucher",
    "payments": "voucher",
    "recommendations": "matching",
    "statistics": "matching",
    "assignments": "matching",
}


def owner(path: str) -> tuple[str, str] | None:
    """Map a path below ``/api/v1`` to (service, upstream path)."""
    resource = path.lstrip("/").split("/", 1)[0]
    service = ROUTES.get(resource)
    if service is None:
        return None
    return service, "/" + path.lstrip("/")
