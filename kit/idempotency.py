"""``Idempotency-Key`` for creating endpoints (invariant 5 of docs/ARCHITECTURE.md).

The first answer to a key is stored in the same transaction as what it created; a retry with the
same key and the same request gets that answer back and creates nothing; the same key with a
different request is refused (422, or 409 with ``conflict_on_reuse``). Keys are scoped by caller
and route.

With ``replay_errors`` a refusal is remembered too (the way Stripe does it): the change runs in
a savepoint, and when it raises a :class:`~kit.errors.Problem` the savepoint is rolled back, the
problem is stored under the key and committed, and every retry gets the same problem back, even
if the state has changed since. Keys are kept at least as long as the service promises (see
:func:`purge`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kit.db import Database
from kit.errors import Conflict, FieldError, Problem, Unprocessable
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


REUSED = "was already used with a different request"


class StoredProblem(Problem):
    """A refusal remembered under an idempotency key, raised again on every retry."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        errors = [FieldError(**e) for e in body.get("errors") or []] or None
        super().__init__(body.get("detail"), errors=errors, title=body.get("title"),
                         type=body.get("type"))
        self.status = status


def _problem_body(problem: Problem) -> dict[str, Any]:
    return {"type": problem.type, "title": problem.title, "status": problem.status,
            "detail": problem.detail,
            "errors": [e.model_dump() for e in problem.errors] if problem.errors else None}


def _reused(conflict_on_reuse: bool) -> Problem:
    error = FieldError(field="Idempotency-Key", message=REUSED)
    if conflict_on_reuse:
        return Conflict(f"Idempotency-Key: {REUSED}", errors=[error],
                        type="/problems/idempotency-key-reused")
    return Unprocessable.field("Idempotency-Key", REUSED)


async def purge(db: Database, plumbing: PlumbingTables, *, older_than: timedelta) -> int:
    """Forget keys older than ``older_than`` (a retry after that is a new request)."""
    keys = plumbing.idempotency
    async with db.session() as s:
        result = await s.execute(
            delete(keys).where(keys.c.created_at < datetime.now(UTC) - older_than))
        await s.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


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
    replay_errors: bool = False,
    conflict_on_reuse: bool = False,
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
                        select(keys.c.request_hash, keys.c.status_code, keys.c.body).where(
                            keys.c.scope == scope, keys.c.key == key
                        )
                    )
                ).first()
                if prior is not None:
                    if prior.request_hash != digest:
                        raise _reused(conflict_on_reuse)
                    if prior.status_code >= 400:  # a refusal remembered (replay_errors)
                        raise StoredProblem(prior.status_code, json.loads(prior.body))
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
            if key is not None and replay_errors:
                try:
                    async with s.begin_nested():
                        value = await change(s)
                except Problem as problem:
                    await s.execute(
                        update(keys).where(keys.c.scope == scope, keys.c.key == key).values(
                            status_code=problem.status,
                            body=json.dumps(_problem_body(problem), default=str)))
                    await s.commit()
                    raise
            else:
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
