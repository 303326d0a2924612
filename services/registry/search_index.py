"""Queries of the search table (``offering_search``) and its text index. Flushes, never commits.

Every filter walks an index of the search table in the order of the answer (``key``: next
start date, then sequence number) and stops after one page, so that a page costs what the
page holds, not what the register holds. Free text uses the text index (SQLite: the FTS5
trigram table ``offering_fts``, whose rows carry the order key as their rowid, walked in rowid
order; PostgreSQL: pg_trgm GIN indexes, which answer ``LIKE '%word%'``). Counting stops at
:data:`COUNT_LIMIT` matches.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    and_,
    column,
    delete,
    exists,
    func,
    insert,
    literal,
    literal_column,
    not_,
    select,
    table,
    text,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.domain.search import (
    INDEXED_WORD,
    OTHER_TIER,
    TITLE_TIER,
    SearchText,
    order_key,
    place_names,
    search_text,
)
from services.registry.models import (
    Municipality,
    Offering,
    OfferingLanguage,
    SearchEntry,
    SearchLanguage,
    SearchPlace,
)
from services.registry.schemas import OfferingSearch

COUNT_LIMIT = 200
S = SearchEntry
P = SearchPlace
L = SearchLanguage
fts = table("offering_fts", column("rowid", BigInteger))


def _sqlite(s: AsyncSession) -> bool:
    return s.get_bind().dialect.name == "sqlite"


async def next_seqs(s: AsyncSession, n: int) -> list[int]:
    """``n`` new sequence numbers (SQLite: one writer at a time; PostgreSQL: a sequence)."""
    if n <= 0:
        return []
    if _sqlite(s):
        top = int(await s.scalar(select(func.max(S.seq))) or 0)
        return list(range(top + 1, top + n + 1))
    rows = await s.execute(
        text("SELECT nextval('offering_search_seq') FROM generate_series(1, :n)"), {"n": n})
    return [int(r[0]) for r in rows]


async def place_names_of(s: AsyncSession, codes: Sequence[str]) -> dict[str, list[str]]:
    """Municipality code → its Finnish and Swedish names."""
    if not codes:
        return {}
    rows = await s.execute(select(Municipality.code, Municipality.name)
                           .where(Municipality.code.in_(sorted(set(codes)))))
    return {code: place_names([name]) for code, name in rows.all()}


def text_of(o: Offering, places: Mapping[str, list[str]]) -> SearchText:
    names = [n for code in o.municipalities for n in places.get(code, [])]
    return search_text(o.title, o.description, o.provider_name, dict.fromkeys(names))


async def index(s: AsyncSession, offerings: Sequence[Offering], *, new: bool = False) -> None:
    """Write the search rows of ``offerings`` (replacing the ones they had; an offering keeps
    its sequence number); ``new``: offerings inserted in this transaction, without rows yet."""
    if not offerings:
        return
    ids = [o.id for o in offerings]
    kept: dict[str, int] = {}
    if not new:
        got = await s.execute(select(S.offering_id, S.seq).where(S.offering_id.in_(ids)))
        kept = {oid: seq for oid, seq in got.all()}
    if kept:
        old = select(S.key).where(S.offering_id.in_(list(kept))).scalar_subquery()
        await s.execute(delete(P).where(P.key.in_(old)))
        await s.execute(delete(L).where(L.key.in_(old)))
        await s.execute(delete(S).where(S.offering_id.in_(list(kept))))
    fresh = iter(await next_seqs(s, len(ids) - len(kept)))
    places = await place_names_of(s, [c for o in offerings for c in o.municipalities])
    rows = []
    where: list[dict[str, Any]] = []
    spoken: list[dict[str, Any]] = []
    for o in offerings:
        seq = kept.get(o.id) or next(fresh)
        st = text_of(o, places)
        key = order_key(o.next_start, seq)
        where += [{"municipality_code": c, "key": key} for c in sorted(set(o.municipalities))]
        spoken += [{"facet": facet, "key": key, "visible": o.visible,
                    "service_type": o.service_type}
                   for lang in sorted(set(o.languages))
                   for facet in (lang, language_facet(lang, o.region_code))]
        rows.append({"key": key, "seq": seq, "offering_id": o.id,
                     "provider_id": o.provider_id, "region_code": o.region_code,
                     "service_type": o.service_type, "remote": o.remote, "visible": o.visible,
                     "title": st.title, "text": st.text})
    await s.execute(insert(S), rows)
    if where:
        await s.execute(insert(P), where)
    if spoken:
        await s.execute(insert(L), spoken)


def language_facet(language: str, region: str | None) -> str:
    """The language's facet in ``offering_search_language``: alone, or with a region."""
    return f"{language} {region}" if region else language


async def set_visible(s: AsyncSession, offering_id: str, visible: bool) -> None:
    await s.execute(update(S).where(S.offering_id == offering_id).values(visible=visible))
    await s.execute(update(L).where(L.key.in_(
        select(S.key).where(S.offering_id == offering_id).scalar_subquery()))
        .values(visible=visible).execution_options(synchronize_session=False))


async def follow_visibility(s: AsyncSession, provider_id: str, region: str) -> None:
    """Copy ``offering.visible`` of a provider's offerings in a region to their search rows."""
    await s.execute(
        update(S).where(S.provider_id == provider_id, S.region_code == region)
        .values(visible=select(Offering.visible).where(Offering.id == S.offering_id)
                .scalar_subquery())
        .execution_options(synchronize_session=False))
    await s.execute(
        update(L).where(L.key.in_(select(S.key).where(S.provider_id == provider_id,
                                                      S.region_code == region)
                                  .scalar_subquery()))
        .values(visible=select(S.visible).where(S.key == L.key).scalar_subquery())
        .execution_options(synchronize_session=False))


# -- the search ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Found:
    """One page of matches as (tier, key, offering id), and the bounded count."""

    rows: list[tuple[int, int, str]]
    total: int
    exact: bool


def _like(col: Any, word: str) -> ColumnElement[bool]:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return col.like(f"%{escaped}%", escape="\\")  # type: ignore[no-any-return]


def _phrase(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def _filters(f: OfferingSearch, include_hidden: bool, *, by_index: bool = True
             ) -> list[ColumnElement[bool]]:
    """The conditions on the search row; ``by_index=False`` writes them so that SQLite cannot
    answer them from an index of the search table (``coalesce(c, c)``), which leaves it only
    the order of the table that drives the query."""

    def c(col: Any) -> Any:
        return col if by_index else func.coalesce(col, col)

    cond: list[ColumnElement[bool]] = [] if include_hidden else [c(S.visible) == true()]
    if f.provider_id:
        cond.append(c(S.provider_id) == f.provider_id)
    if f.region:
        cond.append(c(S.region_code) == f.region)
    if f.service_type:
        cond.append(c(S.service_type) == f.service_type)
    if f.remote is not None:
        cond.append(c(S.remote) == literal(f.remote))
    if f.municipality:
        cond.append(exists().where(P.key == S.key, P.municipality_code == f.municipality))
    if f.language:
        cond.append(exists().where(OfferingLanguage.offering_id == S.offering_id,
                                   OfferingLanguage.language == f.language))
    return cond


class _Plan:
    """The statements of one search: per tier, and for counting."""

    def __init__(self, s: AsyncSession, words: Sequence[str], f: OfferingSearch,
                 include_hidden: bool) -> None:
        self.words = list(words)
        self.long = [w for w in words if len(w) >= INDEXED_WORD]
        self.fts = _sqlite(s) and bool(self.long)
        # Without the text index, a municipality's rows are walked in order (a municipality
        # holds few offerings of the register); else they are looked up per match.
        self.place = f.municipality if not self.fts else None
        # Without words, a municipality or a provider, a language's public offerings (in the
        # region, of the service type) are one range of ``offering_search_language``.
        self.spoken: list[ColumnElement[bool]] = []
        if f.language and not (words or f.municipality or f.provider_id or include_hidden):
            self.spoken = [L.facet == language_facet(f.language, f.region), L.visible == true()]
            if f.service_type:
                self.spoken.append(L.service_type == f.service_type)
            rest = replace(f, region=None, service_type=None, language=None)
            self.cond = _filters(rest, True, by_index=not _sqlite(s))
        elif self.place:
            self.cond = _filters(replace(f, municipality=None), include_hidden,
                                 by_index=not _sqlite(s))
        elif f.provider_id and not self.fts:
            # A provider's offerings are walked from its index, whatever SQLite's statistics.
            self.cond = [S.provider_id == f.provider_id,
                         *_filters(replace(f, provider_id=None), include_hidden,
                                   by_index=not _sqlite(s))]
        else:
            self.cond = _filters(f, include_hidden)

    def _plain(self) -> tuple[Any, Any]:
        if self.spoken:
            return (select(S.key, S.offering_id).select_from(L).join(S, S.key == L.key)
                    .where(*self.spoken), L.key)
        if self.place:
            return (select(S.key, S.offering_id).select_from(P).join(S, S.key == P.key)
                    .where(P.municipality_code == self.place), P.key)
        return select(S.key, S.offering_id), S.key

    def _base(self, column_filter: str | None) -> tuple[Any, Any]:
        if not self.fts:
            return self._plain()
        expr = " AND ".join(
            f"{{{column_filter}}} : {_phrase(w)}" if column_filter else _phrase(w)
            for w in self.long)
        q = (select(S.key, S.offering_id).select_from(fts).join(S, S.key == fts.c.rowid)
             .where(literal_column("offering_fts").op("MATCH")(expr)))
        return q, fts.c.rowid

    def _words_in(self, col: Any, *, indexed: bool) -> list[ColumnElement[bool]]:
        """The words' conditions that the FTS expression (``indexed``) does not already hold."""
        return [_like(col, w) for w in self.words if not (indexed and len(w) >= INDEXED_WORD)]

    def tier(self, tier: int) -> tuple[Any, Any]:
        if not self.words:
            q, order = self._plain()
            return q.where(*self.cond), order
        if tier == TITLE_TIER:
            q, order = self._base("title")
            return q.where(*self.cond, *self._words_in(S.title, indexed=self.fts)), order
        q, order = self._base("text")
        in_title = and_(*(_like(S.title, w) for w in self.words))
        return q.where(*self.cond, *self._words_in(S.text, indexed=self.fts),
                       not_(in_title)), order

    def matching(self) -> Any:
        """Every match; with the FTS5 table in its rowid order (so that SQLite walks the text
        index, as for a page, instead of probing it once per row of the table)."""
        q, order = self._base("text")
        q = q.where(*self.cond, *self._words_in(S.text, indexed=self.fts))
        return q.order_by(order) if self.fts else q

    def counted(self) -> Any:
        """At most ``COUNT_LIMIT + 1`` matches; from the language's index alone when it holds
        every condition."""
        if self.spoken and not self.cond:
            return select(L.key).where(*self.spoken).limit(COUNT_LIMIT + 1)
        q = self.matching().with_only_columns(S.key, maintain_column_froms=True)
        return q.limit(COUNT_LIMIT + 1)


async def search(s: AsyncSession, f: OfferingSearch, words: Sequence[str], *,
                 include_hidden: bool, after: tuple[int, int] | None, limit: int) -> Found:
    """``limit + 1`` matches after the position ``after`` (tier, key), title matches first,
    then by key; and the number of matches, exact up to :data:`COUNT_LIMIT`."""
    plan = _Plan(s, words, f, include_hidden)
    rows: list[tuple[int, int, str]] = []
    for tier in (TITLE_TIER, OTHER_TIER) if words else (TITLE_TIER,):
        if after is not None and tier < after[0]:
            continue
        q, order = plan.tier(tier)
        if after is not None and tier == after[0]:
            q = q.where(order > after[1])
        got = await s.execute(q.order_by(order).limit(limit + 1 - len(rows)))
        rows += [(tier, int(key), oid) for key, oid in got.all()]
        if len(rows) > limit:
            break
    if after is None and len(rows) <= limit:
        return Found(rows, len(rows), True)  # the first page holds every match
    counted = plan.counted().subquery()
    total = int(await s.scalar(select(func.count()).select_from(counted)) or 0)
    return Found(rows, min(total, COUNT_LIMIT), total <= COUNT_LIMIT)
