"""Provider API keys: created, listed and revoked by the provider's staff; verified for the
gateway."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.events import uuid7
from contracts.principal import Principal
from kit import audit
from kit.db import Database
from kit.errors import NotFound
from kit.idempotency import Once, run_once
from kit.pagination import Page, paginate
from services.registry import access, repository
from services.registry.models import ApiKey, audit_log, plumbing
from services.registry.schemas import ApiKeyCreated, ApiKeyOut, ApiKeyPosition
from services.registry.use_cases.common import key_scope, now

KEY_PREFIX = "stl_"
MAX_KEY_LENGTH = 200


def hash_key(secret: str, key: str) -> str:
    return hmac.new(secret.encode(), key.encode(), hashlib.sha256).hexdigest()


async def create(db: Database, provider_id: str, name: str, *, principal: Principal,
                 secret: str, key: str | None) -> Once[ApiKeyCreated]:
    access.ensure_own_provider(principal, provider_id)
    access.ensure_may_manage_keys(principal)
    created: dict[str, str] = {}

    async def create_key(s: AsyncSession) -> ApiKeyCreated:
        if await repository.provider(s, provider_id) is None:
            raise NotFound("no such provider")
        prefix = secrets.token_hex(4)
        while await repository.api_key_by_prefix(s, prefix) is not None:
            prefix = secrets.token_hex(4)  # 32 bits: rare, but prefixes are unique
        plain = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
        k = ApiKey(id=str(uuid7()), provider_id=provider_id, name=name, prefix=prefix,
                   key_hash=hash_key(secret, plain), created_at=now(),
                   created_by=principal.sub, revoked_at=None)
        s.add(k)
        await s.flush()
        await audit.record(s, audit_log, actor=principal, action="api_key.created",
                           subject_type="provider", subject_id=provider_id,
                           reason=f"key '{name}'", details={"prefix": prefix, "key_id": k.id})
        created["key"] = plain
        # Stored for an idempotent retry without the secret: a lost first answer means the
        # key is revoked and a new one made, never that the secret is kept.
        return ApiKeyCreated(**ApiKeyOut.model_validate(k).model_dump(), key="")

    once = await run_once(db, plumbing, key=key, payload={"name": name}, change=create_key,
                          scope=key_scope(principal, f"POST api-keys {provider_id}"),
                          answer=ApiKeyCreated)
    if once.replayed:
        return once
    return Once(once.value.model_copy(update={"key": created["key"]}))


async def list_keys(db: Database, provider_id: str, *, principal: Principal,
                    after: ApiKeyPosition | None, limit: int) -> Page[ApiKeyOut, ApiKeyPosition]:
    """The provider's keys, oldest first (never the secrets)."""
    access.ensure_own_provider(principal, provider_id)
    async with db.reader() as s:
        rows = await repository.api_keys(
            s, provider_id, after=(after.created_at, after.id) if after else None, limit=limit)
    return paginate([ApiKeyOut.model_validate(k) for k in rows], limit,
                    lambda k: ApiKeyPosition(created_at=k.created_at, id=k.id))


async def revoke(db: Database, provider_id: str, key_id: str, *,
                 principal: Principal) -> ApiKeyOut:
    access.ensure_own_provider(principal, provider_id)
    access.ensure_may_manage_keys(principal)
    async with db.session() as s:
        k = await repository.api_key(s, key_id, for_update=True)
        if k is None or k.provider_id != provider_id:
            raise NotFound("no such API key")
        if k.revoked_at is None:
            k.revoked_at = now()
            await audit.record(s, audit_log, actor=principal, action="api_key.revoked",
                               subject_type="provider", subject_id=provider_id,
                               reason=f"key '{k.name}'",
                               details={"prefix": k.prefix, "key_id": k.id})
        out = ApiKeyOut.model_validate(k)
        await s.commit()
    return out


_DUMMY_HASH = hash_key("dummy", "dummy")


def key_prefix(plain: str) -> str | None:
    """The visible prefix of a key shaped ``stl_<8 hex>_<secret>``, or None."""
    if len(plain) > MAX_KEY_LENGTH or not plain.startswith(KEY_PREFIX):
        return None
    prefix, sep, rest = plain[len(KEY_PREFIX):].partition("_")
    if not sep or not rest or len(prefix) != 8:
        return None
    return prefix


async def verify(db: Database, plain: str, *, secret: str) -> ApiKey | None:
    """The key's record if ``plain`` is a live key, else None. The answer and the work do not
    tell apart an unknown prefix, a wrong secret or a revoked key: the keyed hash is always
    computed and compared in constant time (against a dummy when the prefix is unknown)."""
    prefix = key_prefix(plain)
    async with db.reader() as s:
        k = await repository.api_key_by_prefix(s, prefix or "-")
    candidate = hash_key(secret, plain[:MAX_KEY_LENGTH])
    ok = hmac.compare_digest(candidate, k.key_hash if k is not None else _DUMMY_HASH)
    if k is None or not ok or k.revoked_at is not None:
        return None
    return k
