"""Provider API keys: shown once, stored as a keyed hash, revocable, verified for the gateway."""

from __future__ import annotations

from sqlalchemy import select

from services.registry.models import ApiKey
from tests.integration.registry.conftest import Registry


async def test_create_list_verify_revoke(registry: Registry) -> None:
    pid = await registry.accredited_provider(1)
    r = await registry.client.post(f"/providers/{pid}/api-keys", json={"name": "booking system"},
                                   headers=registry.staff(pid))
    assert r.status_code == 201, r.text
    created = r.json()
    key = created["key"]
    assert key.startswith(f"stl_{created['prefix']}_") and len(key) > 40

    # never stored in plain text, never listed
    async with registry.app.state.runtime.db.reader() as s:
        row = (await s.scalars(select(ApiKey))).one()
    assert key not in (row.key_hash, row.prefix) and len(row.key_hash) == 64
    listed = (await registry.client.get(f"/providers/{pid}/api-keys",
                                        headers=registry.staff(pid))).json()["items"]
    assert [k["prefix"] for k in listed] == [created["prefix"]] and "key" not in listed[0]

    verify = "/internal/credentials/verify"
    r = await registry.client.post(verify, json={"api_key": key}, headers=registry.service())
    assert r.status_code == 200 and r.json()["provider_id"] == pid

    wrong_secret = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    unknown_prefix = "stl_00000000_" + key.split("_", 2)[2]
    malformed = ("garbage", "", "stl_", "stl__x", f"stl_{created['prefix']}_",
                 f"stl_{created['prefix']}", key + "x" * 300, "x" * 4000)
    for bad in (wrong_secret, unknown_prefix, *malformed):
        r = await registry.client.post(verify, json={"api_key": bad}, headers=registry.service())
        assert r.status_code == 401, bad
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["detail"] == "unknown or revoked API key"

    # only the gateway (service role) may verify
    r = await registry.client.post(verify, json={"api_key": key}, headers=registry.staff(pid))
    assert r.status_code == 403
    r = await registry.client.post(verify, json={"api_key": key})
    assert r.status_code == 401

    revocation = f"/providers/{pid}/api-keys/{created['id']}/revocation"
    r = await registry.client.post(revocation, headers=registry.staff(pid))
    assert r.status_code == 200 and r.json()["revoked_at"]
    revoked_at = r.json()["revoked_at"]
    r = await registry.client.post(verify, json={"api_key": key}, headers=registry.service())
    assert r.status_code == 401
    again = await registry.client.post(revocation, headers=registry.staff(pid))
    assert again.status_code == 200 and again.json()["revoked_at"] == revoked_at
    history = (await registry.client.get(f"/providers/{pid}/history",
                                         headers=registry.staff(pid))).json()["items"]
    assert [e["action"] for e in history[:2]] == ["api_key.revoked", "api_key.created"]
    assert all(key not in str(e) for e in history)


async def test_other_providers_cannot_touch_keys(registry: Registry) -> None:
    a = await registry.accredited_provider(2)
    b = await registry.accredited_provider(3)
    created = (await registry.client.post(f"/providers/{a}/api-keys", json={"name": "k"},
                                          headers=registry.staff(a))).json()
    for method, path in (("post", f"/providers/{a}/api-keys"),
                         ("get", f"/providers/{a}/api-keys"),
                         ("post", f"/providers/{a}/api-keys/{created['id']}/revocation"),
                         ("post", f"/providers/{b}/api-keys/{created['id']}/revocation")):
        body = {"name": "x"} if path.endswith("api-keys") and method == "post" else None
        r = await registry.client.request(method.upper(), path, headers=registry.staff(b),
                                          json=body)
        assert r.status_code == 404, (method, path, r.status_code)
        r = await registry.client.request(method.upper(), path, headers=registry.admin(),
                                          json=body)
        assert r.status_code == 404, (method, path, "admin")
    # the key survived all of that
    listed = (await registry.client.get(f"/providers/{a}/api-keys",
                                        headers=registry.staff(a))).json()["items"]
    assert [k["revoked_at"] for k in listed] == [None]


async def test_idempotent_retry_never_returns_the_secret_again(registry: Registry) -> None:
    pid = await registry.accredited_provider(4)
    headers = registry.staff(pid) | {"Idempotency-Key": "key-1"}
    first = await registry.client.post(f"/providers/{pid}/api-keys", json={"name": "k"},
                                       headers=headers)
    again = await registry.client.post(f"/providers/{pid}/api-keys", json={"name": "k"},
                                       headers=headers)
    assert first.json()["key"].startswith("stl_")
    assert again.json()["id"] == first.json()["id"] and again.json()["key"] == ""
    listed = (await registry.client.get(f"/providers/{pid}/api-keys",
                                        headers=registry.staff(pid))).json()["items"]
    assert len(listed) == 1
