"""A minimal service built with kit's app factory, for the foundation benchmark: one table,
a bare INSERT endpoint and an INSERT-plus-outbox-event endpoint, so that the cost of the
plumbing is measured apart from any domain. Not part of the product.

    uvicorn bare_app:app   (from bench/, with BARE_DATABASE_URL and NATS_URL set)
"""

from __future__ import annotations

import asyncio
import uuid

from fastapi import FastAPI
from pydantic import BaseModel
from pydantic_settings import SettingsConfigDict
from sqlalchemy import Column, String, Table, insert

from contracts.events import EventPayload
from kit.app import RuntimeDep, create_service_app
from kit.db import Database
from kit.orm import new_metadata
from kit.outbox import add_event
from kit.settings import ServiceSettings
from kit.tables import plumbing_tables

metadata = new_metadata()
tables = plumbing_tables(metadata)
note = Table(
    "note",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("text", String(200), nullable=False),
)


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="BARE_", extra="ignore")
    service_name: str = "bare"


class NoteWritten(EventPayload):
    service = "bare"
    name = "note.written"
    note_id: str


class NoteIn(BaseModel):
    text: str


def create_app() -> FastAPI:
    from fastapi import APIRouter

    router = APIRouter()

    @router.post("/notes", status_code=201)
    async def bare(body: NoteIn, rt: RuntimeDep) -> dict[str, str]:
        nid = str(uuid.uuid4())
        async with rt.db.session() as s:
            await s.execute(insert(note).values(id=nid, text=body.text))
            await s.commit()
        return {"id": nid}

    @router.post("/notes-with-event", status_code=201)
    async def with_event(body: NoteIn, rt: RuntimeDep) -> dict[str, str]:
        nid = str(uuid.uuid4())
        async with rt.db.session() as s:
            await s.execute(insert(note).values(id=nid, text=body.text))
            await add_event(s, tables, NoteWritten(note_id=nid))
            await s.commit()
        return {"id": nid}

    return create_service_app(
        settings=Settings(),
        metadata=metadata,
        plumbing=tables,
        migrations="",
        routers=[router],
        title="bare",
        description="benchmark only",
        migrate_on_start=False,
    )


async def create_schema(url: str) -> None:
    db = Database(url)
    async with db.write_engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    await db.dispose()


if __name__ != "__main__":
    app = create_app()
else:  # pragma: no cover
    import sys

    asyncio.run(create_schema(sys.argv[1]))
