"""search table and text index: offering_search with its order key; FTS5 trigram (SQLite) or
pg_trgm GIN indexes (PostgreSQL); offering.search_text dropped

Revision ID: 7a1c52e9d0b4
Revises: e3b84f1d6a09
Create Date: 2026-11-29 18:40:00.000000
"""
from collections.abc import Sequence
import json
from datetime import date
import unicodedata

import sqlalchemy as sa
from alembic import op


revision: str = '7a1c52e9d0b4'
down_revision: str | None = 'e3b84f1d6a09'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEQ_BITS = 32
FTS_TRIGGERS = (
    "CREATE TRIGGER offering_search_ai AFTER INSERT ON offering_search BEGIN "
    "INSERT INTO offering_fts(rowid, title, text) VALUES (new.key, new.title, new.text); END",
    "CREATE TRIGGER offering_search_ad AFTER DELETE ON offering_search BEGIN "
    "INSERT INTO offering_fts(offering_fts, rowid, title, text) "
    "VALUES ('delete', old.key, old.title, old.text); END",
    "CREATE TRIGGER offering_search_au AFTER UPDATE OF key, title, text ON offering_search "
    "BEGIN INSERT INTO offering_fts(offering_fts, rowid, title, text) "
    "VALUES ('delete', old.key, old.title, old.text); "
    "INSERT INTO offering_fts(rowid, title, text) VALUES (new.key, new.title, new.text); END",
)


# Written out here, not imported: a revision keeps meaning what it meant when it was written.
def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = "".join(" " if ch.isspace() else ch for ch in decomposed
                   if ch.isspace() or not (unicodedata.combining(ch)
                                           or unicodedata.category(ch)[0] == "C"))
    return " ".join(kept.split())


def _loads(value: object) -> object:
    return json.loads(value) if isinstance(value, str) else value


def upgrade() -> None:
    conn = op.get_bind()
    postgres = conn.dialect.name == "postgresql"
    op.create_table(
        'offering_search',
        sa.Column('key', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('offering_id', sa.String(length=36), nullable=False),
        sa.Column('provider_id', sa.String(length=36), nullable=False),
        sa.Column('region_code', sa.String(length=40), nullable=False),
        sa.Column('service_type', sa.String(length=60), nullable=False),
        sa.Column('remote', sa.Boolean(), nullable=False),
        sa.Column('visible', sa.Boolean(), nullable=False),
        sa.Column('title', sa.Text(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['offering_id'], ['offering.id'], ondelete='CASCADE',
                                name=op.f('fk_offering_search_offering_id_offering')),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_offering_search')),
        sa.UniqueConstraint('offering_id', name=op.f('uq_offering_search_offering_id')),
        sa.UniqueConstraint('seq', name=op.f('uq_offering_search_seq')),
    )
    with op.batch_alter_table('offering_search', schema=None) as batch_op:
        batch_op.create_index('ix_offering_search_visible', ['visible', 'key'], unique=False)
        batch_op.create_index('ix_offering_search_region', ['visible', 'region_code', 'key'],
                              unique=False)
        batch_op.create_index('ix_offering_search_region_type',
                              ['visible', 'region_code', 'service_type', 'key'], unique=False)
        batch_op.create_index('ix_offering_search_type', ['visible', 'service_type', 'key'],
                              unique=False)
        batch_op.create_index('ix_offering_search_remote', ['visible', 'remote', 'key'],
                              unique=False)
        batch_op.create_index('ix_offering_search_provider', ['provider_id', 'visible', 'key'],
                              unique=False)
    op.create_table(
        'offering_search_place',
        sa.Column('municipality_code', sa.String(length=3), nullable=False),
        sa.Column('key', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['key'], ['offering_search.key'], ondelete='CASCADE',
                                name=op.f('fk_offering_search_place_key_offering_search')),
        sa.PrimaryKeyConstraint('municipality_code', 'key',
                                name=op.f('pk_offering_search_place')),
    )
    if postgres:
        op.execute("CREATE SEQUENCE offering_search_seq")
        where = conn.scalar(sa.text(
            "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'"))
        if where is None:
            op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
            where = "public"
        for column in ("title", "text"):
            op.execute(f"CREATE INDEX ix_offering_search_{column}_trgm ON offering_search "
                       f"USING gin ({column} {where}.gin_trgm_ops)")
    else:
        op.execute("CREATE VIRTUAL TABLE offering_fts USING fts5(title, text, "
                   "content='offering_search', content_rowid='key', tokenize='trigram')")
        for statement in FTS_TRIGGERS:
            op.execute(statement)
    _fill(conn, postgres)
    with op.batch_alter_table('offering', schema=None) as batch_op:
        batch_op.drop_column('search_text')


def _fill(conn: sa.Connection, postgres: bool) -> None:
    """The search rows of the offerings already published."""
    names: dict[str, list[str]] = {}
    for code, name in conn.execute(sa.text("SELECT code, name FROM municipality")):
        name = _loads(name) or {}
        names[code] = [v for v in (name.get("fi"), name.get("sv")) if v]
    rows = conn.execute(sa.text(
        "SELECT id, provider_id, region_code, service_type, remote, visible, title, "
        "description, municipalities, provider_name, next_start FROM offering ORDER BY id"))
    search = sa.table("offering_search", *(sa.column(c) for c in (
        "key", "seq", "offering_id", "provider_id", "region_code", "service_type", "remote",
        "visible", "title", "text")))
    batch = []
    places_of: list[dict[str, object]] = []
    for seq, r in enumerate(rows, start=1):
        title, description = _loads(r.title) or {}, _loads(r.description) or {}
        places: list[str] = []
        for code in _loads(r.municipalities) or []:
            places += [n for n in names.get(code, []) if n not in places]
        titles = _fold(" ".join(v for v in title.values() if v))
        rest = _fold(" ".join([r.provider_name, *(v for v in description.values() if v),
                               *places]))
        start = (date.fromisoformat(r.next_start) if isinstance(r.next_start, str)
                 else r.next_start)
        key = (start.toordinal() << SEQ_BITS) | seq
        places_of += [{"municipality_code": code, "key": key}
                      for code in sorted(set(_loads(r.municipalities) or []))]
        batch.append({"key": key, "seq": seq,
                      "offering_id": r.id, "provider_id": r.provider_id,
                      "region_code": r.region_code, "service_type": r.service_type,
                      "remote": bool(r.remote), "visible": bool(r.visible), "title": titles,
                      "text": f"{titles} {rest}".strip()})
    if batch:
        conn.execute(sa.insert(search), batch)
    if places_of:
        place = sa.table("offering_search_place", sa.column("municipality_code"),
                         sa.column("key"))
        conn.execute(sa.insert(place), places_of)
    if postgres and batch:
        conn.execute(sa.text(f"SELECT setval('offering_search_seq', {len(batch)})"))


def downgrade() -> None:
    conn = op.get_bind()
    with op.batch_alter_table('offering', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_text', sa.Text(), nullable=False,
                                      server_default=''))
    op.execute("UPDATE offering SET search_text = (SELECT s.text FROM offering_search s "
               "WHERE s.offering_id = offering.id)")
    op.drop_table('offering_search_place')
    if conn.dialect.name == "postgresql":
        op.drop_table('offering_search')
        op.execute("DROP SEQUENCE offering_search_seq")
    else:
        for name in ("offering_search_ai", "offering_search_ad", "offering_search_au"):
            op.execute(f"DROP TRIGGER {name}")
        op.execute("DROP TABLE offering_fts")
        op.drop_table('offering_search')
