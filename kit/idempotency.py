"""``Idempotency-Key`` for creating endpoints (DESIGN.md, invariant 5).

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
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kit.db import Database
from kit.errors import Unprocessable
from kit.tables import PlumbingTables

MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class Outcome:
    status_code: int
    body: Any
    replayed: bool = False


def request_hash(payload: Any) -> str:
    return hashlib.sha256(
        json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()
    ).hexdigest()


Work = Callable[[AsyncSession], Awaitable[tuple[int, Any]]]


async def run_once(
    db: Database,
    tables: PlumbingTables,
    *,
    scope: str,
    key: str | None,
    payload: Any,
    work: Work,
) -> Outcome:
    """Run ``work`` in one write transaction and commit, unless ``key`` was seen before.

    ``work`` returns (status, JSON-able body) and must not commit.
    """
    if key is not None and not (0 < len(key) <= MAX_KEY_LENGTH):
        raise Unprocessable.field("Idempotency-Key", f"must be 1..{MAX_KEY_LENGTH} characters")
    digest = request_hash(payload)
    t = tables.idempotency
    for _ in range(2):
        async with db.session() as s:
            if key is not None:
                prior = (
                    await s.execute(
                        select(t.c.request_hash, t.c.status_code, t.c.body).where(
                            t.c.scope == scope, t.c.key == key
                        )
                    )
                ).first()
                if prior is not None:
                    if prior.request_hash != digest:
                        raise Unprocessable.field(
                            "Idempotency-Key", "was already used with a different request"
                        )
                    return Outcome(prior.status_code, json.loads(prior.body), replayed=True)
            if key is not None:
                try:
                    # Claim the key first: a concurrent request with the same key blocks on
                    # this row until we commit, then fails here and replays our answer.
                    await s.execute(
                        insert(t).values(
                            scope=scope, key=key, request_hash=digest, status_code=0, body="",
                            created_at=datetime.now(UTC),
                        )
                    )
                except IntegrityError:
                    await s.rollback()
                    continue
            status, body = await work(s)
            if key is not None:
                await s.execute(
                    update(t)
                    .where(t.c.scope == scope, t.c.key == key)
                    .values(status_code=status, body=json.dumps(body, default=str))
                )
            await s.commit()
            return Outcome(status, body)
    raise RuntimeError("idempotency key raced twice")  # pragma: no cover
