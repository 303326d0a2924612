"""The audit log: a region's decisions, and the history of one provider."""

from __future__ import annotations

from contracts.principal import Principal
from kit.db import Database
from kit.errors import NotFound
from kit.pagination import Page, paginate
from services.registry import access, repository
from services.registry.schemas import AuditEntry, AuditPosition


def _position(entry: AuditEntry) -> AuditPosition:
    return AuditPosition(before=entry.seq)


async def region_log(db: Database, region: str | None, *, after: AuditPosition | None,
                     limit: int) -> Page[AuditEntry, AuditPosition]:
    """A region's audit log, newest first."""
    async with db.reader() as s:
        rows = await repository.audit_entries(s, region=region, subject_id=None,
                                              before=after.before if after else None,
                                              limit=limit)
    return paginate([AuditEntry.model_validate(r) for r in rows], limit, _position)


async def provider_history(db: Database, provider_id: str, viewer: Principal, *,
                           after: AuditPosition | None,
                           limit: int) -> Page[AuditEntry, AuditPosition]:
    """Newest first: the provider sees its whole history; a region admin the entries of its
    own region, and no such provider when there are none."""
    region = access.history_region(viewer, provider_id)
    async with db.reader() as s:
        if await repository.provider(s, provider_id) is None:
            raise NotFound("no such provider")
        rows = await repository.audit_entries(s, region=region, subject_id=provider_id,
                                              before=after.before if after else None,
                                              limit=limit)
    if region is not None and not rows:
        # an admin with nothing about this provider in its region learns nothing more
        raise NotFound("no such provider")
    return paginate([AuditEntry.model_validate(r) for r in rows], limit, _position)
