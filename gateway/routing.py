"""Which service owns which public resource: ``/api/v1/<resource>/...`` → service.

Only these resources are public; everything else a service serves (``/internal/...``,
``/ops/...``, ``/readyz``, ``/metrics``) is unreachable through the gateway, and the merged
OpenAPI document shows exactly these."""

from __future__ import annotations

ROUTES: dict[str, str] = {
    "providers": "registry",
    "offerings": "registry",
    "service-types": "registry",
    "regions": "registry",
    "audit-log": "registry",  # region admins: their region's audit log
    "accreditation-expiry-runs": "registry",  # region admins: expire due accreditations now
    "budgets": "voucher",
    "vouchers": "voucher",
    "claims": "voucher",
    "payments": "voucher",
    "reports": "voucher",  # region admins: money per service type, provider, funder, budget
    "audit-chain": "voucher",  # region admins: the hash-chained log of money decisions
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
