"""The service's in-memory index of a region: rebuilt at once after a change this process
applied; after another replica's change (the stored generation moved) within MAX_AGE; and
never while nothing changed, however old it is."""

from __future__ import annotations

from sqlalchemy import update

from services.matching import repository
from services.matching.models import RegionGeneration, VoucherView
from services.matching.use_cases.clock import today
from services.matching.use_cases.index import MAX_AGE, region_index
from tests.integration.matching.conftest import HOLDERS, Town


async def test_a_region_is_rebuilt_only_when_it_changed_here_or_in_another_replica(
    town: Town,
) -> None:
    index = region_index(town.app.state.runtime.extra)
    async with town.db.reader() as s:
        v = await s.get(VoucherView, town.vouchers[HOLDERS[0]])
        assert v is not None
        region, service_type = v.region, v.service_type
        # the consumers' transactions counted their changes of the region
        assert (await repository.region_state(s, region))[0] > 0
        first = await index.bucket(s, region, service_type, today())
        assert first.offerings
        built = index._regions[region]
        built.checked_at -= MAX_AGE + 1  # old, but nobody changed it: kept
        assert await index.bucket(s, region, service_type, today()) is first
        assert index._regions[region] is built

    # Another replica applied a change: its transaction moved the stored generation.
    async with town.db.session() as s:
        await s.execute(update(RegionGeneration).where(RegionGeneration.region == region)
                        .values(generation=RegionGeneration.generation + 1))
        await s.commit()
    async with town.db.reader() as s:
        assert await index.bucket(s, region, service_type, today()) is first  # within MAX_AGE
        built.checked_at -= MAX_AGE + 1
        second = await index.bucket(s, region, service_type, today())
        assert second is not first and second.offerings == first.offerings
        rebuilt = index._regions[region]
        # A change this process applied: rebuilt at once.
        repository.GENERATIONS[region] += 1
        assert await index.bucket(s, region, service_type, today()) is not second
        assert index._regions[region] is not rebuilt
