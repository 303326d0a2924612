"""``Idempotency-Key`` for creating endpoints (invariant 5 of docs/ARCHITECTURE.md).

The first answer to a key is stored in the same transaction as what it created; a retry with the
same key and the same request gets that answer back and creates nothing; the same key with a
different request is refused (422). Keys are scoped by caller and route.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kit.db import Database
from kit.errors import Unprocessable
from kit.tables import PlumbingTables
from kit.versioning import versioned_model

MAX_KEY_LENGTH = 200

IdempotencyKeyHeader = Annotated[str | None, Header(
    alias="Idempotency-Key", description="a retry with the same key and body returns the "
    "first answer and creates nothing new")]


Answer = TypeVar("Answer", bound=BaseModel)


@dataclass(frozen=True)
class Once(Generic[Answer]):
    """The answer of a use case run under an idempotency key; ``replayed``: the stored first
    answer of an earlier request with the same key."""

    value: Answer
    replayed: bool = False


def request_hash(payload: Any) -> str:
    return hashlib.sha256(
        json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()
    ).hexdigest()


async def run_once(
    db: Database,
    plumbing: PlumbingTables,
    *,
    scope: str,
    key: str | None,
    payload: Any,
    change: Callable[[AsyncSession], Awaitable[Answer]],
    answer: type[Answer],
) -> Once[Answer]:
    """Run ``change`` in one write transaction and commit, unless ``key`` was seen before.

    ``change`` returns the use case's answer (an ``answer`` model) and must not commit; the answer
    is stored with the key, in the same transaction, and given back to every retry.
    """
    if key is not None and not (0 < len(key) <= MAX_KEY_LENGTH):
        raise Unprocessable.field("Idempotency-Key", f"must be 1..{MAX_KEY_LENGTH} characters")
    digest = request_hash(payload)
    keys = plumbing.idempotency
    for _ in range(2):
        async with db.session() as s:
            if key is not None:
                prior = (
                    await s.execute(
                        select(keys.c.request_hash, keys.c.body).where(
                            keys.c.scope == scope, keys.c.key == key
                        )
                    )
                ).first()
                if prior is not None:
                    if prior.request_hash != digest:
                        raise Unprocessable.field(
                            "Idempotency-Key", "was already used with a different request"
                        )
                    return Once(answer.model_validate_json(prior.body), replayed=True)
            if key is not None:
                try:
                    # Claim the key first: a concurrent request with the same key blocks on
                    # this row until we commit, then fails here and replays our answer.
                    # (status_code is no longer read: the router decides the status.)
                    await s.execute(
                        insert(keys).values(
                            scope=scope, key=key, request_hash=digest, status_code=0, body="",
                            created_at=datetime.now(UTC),
                        )
                    )
                except IntegrityError:
                    await s.rollback()
                    continue
            value = await change(s)
            if key is not None:
                await s.execute(
                    update(keys)
                    .where(keys.c.scope == scope, keys.c.key == key)
                    .values(body=value.model_dump_json())
                )
            await s.commit()
            return Once(value)
    raise RuntimeError("idempotency key raced twice")  # pragma: no cover


def once_response(once: Once[Any], status_code: int) -> JSONResponse:
    """The answer (with its ``ETag`` when it has a version); a replayed one says so in
    ``Idempotent-Replayed``."""
    return versioned_model(once.value, status_code,
                           {"Idempotent-Replayed": "true"} if once.replayed else None)
