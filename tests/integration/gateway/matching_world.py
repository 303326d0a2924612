"""Matching objects for the BOLA matrix: the recommendations of the voucher world's voucher
(held by the test person 010280-952L) and a default-assignment run of Pirkanmaa."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.integration.gateway.conftest import Gateway
from tests.integration.gateway.voucher_world import VoucherWorld, _until


@dataclass
class MatchingWorld:
    voucher: str
    run: str
    offering: str


async def matching_world(gw: Gateway, vouchers: VoucherWorld) -> MatchingWorld:
    admin = await gw.admin()
    run = await _until(lambda: gw.client.post("/api/v1/assignments", json={"seed": 1},
                                              headers=admin), 201, "assignment run")
    return MatchingWorld(vouchers.voucher, run.json()["run_id"], vouchers.other_offering)


Ids = dict[str, str]
OBJECTS: dict[str, Callable[[MatchingWorld], tuple[Ids, dict[str, Any] | None]]] = {
    "/api/v1/recommendations/{voucher_id}": lambda w: ({"voucher_id": w.voucher}, None),
    "/api/v1/assignments/{run_id}": lambda w: ({"run_id": w.run}, None),
    "/api/v1/assignments/{run_id}/proposals": lambda w: ({"run_id": w.run}, None),
    "/api/v1/recommendations/{voucher_id}/assignment": lambda w: (
        {"voucher_id": w.voucher}, None),
    "/api/v1/assignments/{run_id}/overrides": lambda w: (
        {"run_id": w.run}, {"voucher_id": w.voucher, "offering_id": w.offering,
                            "reason": "the holder asked by phone"}),
}
