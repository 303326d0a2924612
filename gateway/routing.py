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
    # region admins: each service's dead letters, without the events (kit/dead_letters.py)
    "dead-letters/registry": "registry",
    "dead-letters/voucher": "voucher",
    "dead-letters/matching": "matching",
}
# Resources every service serves under its own name: ``/<resource>/<service>`` is the key.
PER_SERVICE = frozenset({"dead-letters"})


# Request bodies that may be larger than the gateway's ``max_body_bytes`` (1 MiB by default), by
# method and path below /api/v1. Bulk issuance takes up to 10 000 rows: as JSON, each row the
# body of POST /vouchers (a few hundred bytes), a full request is about 2–4 MB; a CSV file of
# 10 000 rows stays near 1 MB.
LARGE_BODIES: dict[tuple[str, str], int] = {
    ("POST", "/vouchers/bulk-issuance"): 8 * 1024 * 1024,  # voucher: bulk issuance, JSON or CSV
}


def body_limit(method: str, path: str, default: int) -> int:
    """The largest request body forwarded for ``method`` ``path`` (413 above it)."""
    return max(default, LARGE_BODIES.get((method, path), 0))


def resource_of(path: str) -> str:
    """The key of ``ROUTES`` a path below ``/api/v1`` falls under: its first segment, or its
    first two for a resource in ``PER_SERVICE``."""
    parts = path.lstrip("/").split("/", 2)
    if parts[0] in PER_SERVICE and len(parts) > 1:
        return f"{parts[0]}/{parts[1]}"
    return parts[0]


def owner(path: str) -> tuple[str, str] | None:
    """Map a path below ``/api/v1`` to (service, upstream path)."""
    service = ROUTES.get(resource_of(path))
    if service is None:
        return None
    return service, "/" + path.lstrip("/")
