"""The service's in-memory index of a region: a region that is only old (MAX_AGE, for changes
another replica applied) is answered at once and rebuilt in the background; a change this
process applied is rebuilt before the answer."""

from __future__ import annotations

import asyncio

from services.matching import repository
from services.matching.models import VoucherView
from services.matching.use_cases.clock import today
from services.matching.use_cases.index import MAX_AGE, region_index
from tests.integration.matching.conftest import HOLDERS, Town


async def test_an_old_region_is_answered_at_once_and_rebuilt_in_the_background(
    town: Town,
) -> None:
    index = region_index(town.app.state.runtime.extra)
    db = town.db
    async with db.reader() as s:
        v = await s.get(VoucherView, town.vouchers[HOLDERS[0]])
        assert v is not None
        region, service_type = v.region, v.service_type
        first = await index.bucket(s, region, service_type, today(), db=db)
        assert first.offerings
        built = index._regions[region]
        built.built_at -= MAX_AGE + 1  # older than a replica may lag
        assert await index.bucket(s, region, service_type, today(), db=db) is first
        refresh = index._refreshing[region]
        assert await index.bucket(s, region, service_type, today(), db=db) is first
        assert index._refreshing[region] is refresh  # one rebuild at a time
        await refresh
        await asyncio.sleep(0)
        assert region not in index._refreshing
        rebuilt = index._regions[region]
        assert rebuilt is not built
        assert await index.bucket(s, region, service_type, today(), db=db) is not first
        # A change this process applied: rebuilt before the answer, not in the background.
        repository.GENERATIONS[region] += 1
        answer = await index.bucket(s, region, service_type, today(), db=db)
        assert region not in index._refreshing
        assert index._regions[region] is not rebuilt
        assert answer.offerings == first.offerings
