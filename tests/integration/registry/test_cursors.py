"""Every list's cursor is opaque and signed: a hand-made, garbled or foreign cursor is a 422
problem naming ``cursor`` (never a 500, never a query), and a genuine one still pages."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from tests.integration.registry.conftest import Registry


def hand_made(state: dict[str, object]) -> str:
    """A cursor as the API used to make them: unsigned base64 JSON."""
    return base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")


BAD = {
    "overflow": hand_made({"before": 2**63}),
    "after": hand_made({"after": "0"}),
    "offering": hand_made({"start": "2030-01-01", "id": "x"}),
    "api-key": hand_made({"created_at": "2030-01-01T00:00:00Z", "id": "x"}),
    "garbage": "%%%not-a-cursor%%%",
    "empty-tag": hand_made({"before": 5}) + ".",
}


def refused(r: httpx.Response) -> bool:
    return (r.status_code == 422 and r.headers["content-type"].startswith("application/problem")
            and r.json()["errors"][0]["field"] == "cursor")


@pytest.fixture
async def lists(registry: Registry) -> dict[str, tuple[str, dict[str, str]]]:
    """Each cursor-taking list with the headers that may read it, holding two pages."""
    first = await registry.accredited_provider(1)
    await registry.accredited_provider(2)
    for _ in range(2):
        assert (await registry.publish(first)).status_code == 201
        created = await registry.client.post(f"/providers/{first}/api-keys",
                                             json={"name": "k"}, headers=registry.staff(first))
        assert created.status_code == 201, created.text
    return {
        "api-keys": (f"/providers/{first}/api-keys", registry.staff(first)),
        "audit-log": ("/audit-log", registry.admin()),
        "history": (f"/providers/{first}/history", registry.staff(first)),
        "providers": ("/providers", {}),
        "offerings": ("/offerings", {}),
    }


async def test_bad_cursors_are_refused_on_every_list(
    registry: Registry, lists: dict[str, tuple[str, dict[str, str]]]
) -> None:
    c = registry.client
    genuine: dict[str, str] = {}
    for name, (path, headers) in lists.items():
        page = await c.get(path, params={"limit": 1}, headers=headers)
        assert page.status_code == 200, (name, page.text)
        genuine[name] = page.json()["next_cursor"]
        assert genuine[name], name
        following = await c.get(path, params={"limit": 1, "cursor": genuine[name]},
                                headers=headers)
        assert following.status_code == 200, (name, following.text)
        assert following.json()["items"] != page.json()["items"], name
        for kind, cursor in BAD.items():
            r = await c.get(path, params={"cursor": cursor}, headers=headers)
            assert refused(r), (name, kind, r.status_code, r.text)
        # One bit changed in a genuine cursor's payload
        body, _, tag = genuine[name].partition(".")
        flipped = body[:-1] + ("A" if body[-1] != "A" else "B") + "." + tag
        assert refused(await c.get(path, params={"cursor": flipped}, headers=headers)), name
    # A cursor from another list is refused too.
    names = list(lists)
    for name, other in zip(names, names[1:] + names[:1], strict=True):
        path, headers = lists[name]
        r = await c.get(path, params={"cursor": genuine[other]}, headers=headers)
        assert refused(r), (name, other, r.text)
    # The operations list takes the same cursors.
    for cursor in (*BAD.values(), genuine["audit-log"]):
        assert refused(await c.get("/ops/dead-letters", params={"cursor": cursor}))
