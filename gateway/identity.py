"""Who is calling: session tokens (citizens and admins, after OIDC or the dev login), provider
API keys (verified by the registry), and the principal forwarded to the services.

A henkilötunnus never leaves this module: it becomes ``person_key`` (HMAC-SHA256 with a secret
of the gateway) at login and is neither stored nor logged.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections import OrderedDict
from dataclasses import dataclass

import httpx
import jwt
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fi import hetu

from contracts.principal import Principal, Role, encode

SESSION_AUDIENCE = "seteli-session"
SESSION_ISSUER = "seteli-gateway"
API_KEY_PREFIX = "stl_"


class InvalidCredentials(Exception):
    pass


def person_key(secret: str, henkilotunnus: str, *, allow_temporary: bool) -> str:
    """Validate a henkilötunnus and return its keyed hash; the code itself is not kept."""
    try:
        code = hetu.validate(henkilotunnus, allow_temporary=allow_temporary)
    except StdnumError as exc:
        raise InvalidCredentials("not a valid personal identity code") from exc
    return hmac.new(secret.encode(), code.upper().encode(), hashlib.sha256).hexdigest()


def issue_session(principal: Principal, secret: str, ttl: int) -> str:
    now = int(time.time())
    claims = principal.model_dump(exclude_none=True) | {
        "aud": SESSION_AUDIENCE, "iss": SESSION_ISSUER, "iat": now, "exp": now + ttl}
    return jwt.encode(claims, secret, algorithm="HS256")


def read_session(token: str, secret: str) -> Principal:
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], audience=SESSION_AUDIENCE,
                            issuer=SESSION_ISSUER)
    except jwt.PyJWTError as exc:
        raise InvalidCredentials("session token is invalid or expired") from exc
    return Principal.model_validate(claims)


@dataclass(frozen=True)
class DemoUser:
    id: str
    label: str
    role: Role
    region: str | None = None
    hetu: str | None = None


DEMO_USERS = [
    DemoUser("citizen-maija", "Maija (test person 010280-952L)", Role.citizen,
             hetu="010280-952L"),
    DemoUser("citizen-matti", "Matti (test person 081181-9984)", Role.citizen,
             hetu="081181-9984"),
    DemoUser("citizen-aino", "Aino (test person 010594Y9032)", Role.citizen,
             hetu="010594Y9032"),
    DemoUser("admin-pirkanmaa", "Admin, Pirkanmaa", Role.region_admin, region="pirkanmaa"),
    DemoUser("admin-pohjois-pohjanmaa", "Admin, Pohjois-Pohjanmaa", Role.region_admin,
             region="pohjois-pohjanmaa"),
    DemoUser("admin-etela-pohjanmaa", "Admin, Etelä-Pohjanmaa", Role.region_admin,
             region="etela-pohjanmaa"),
]


def demo_principal(user: DemoUser, *, person_key_secret: str, allow_temporary: bool
                   ) -> Principal:
    if user.role is Role.citizen:
        assert user.hetu
        key = person_key(person_key_secret, user.hetu, allow_temporary=allow_temporary)
        return Principal(sub=f"citizen:{key[:16]}", role=Role.citizen, person_key=key)
    return Principal(sub=user.id, role=user.role, region=user.region)


class ApiKeyVerifier:
    """Asks the registry whether an API key is live; remembers answers briefly."""

    def __init__(self, registry_url: str, principal_secret: str, *, cache_seconds: float,
                 max_entries: int = 10_000) -> None:
        self.url = registry_url.rstrip("/") + "/internal/credentials/verify"
        self.secret = principal_secret
        self.cache_seconds = cache_seconds
        self.max_entries = max_entries
        self._cache: OrderedDict[str, tuple[float, Principal]] = OrderedDict()

    async def verify(self, client: httpx.AsyncClient, key: str) -> Principal:
        digest = hashlib.sha256(key.encode()).hexdigest()
        hit = self._cache.get(digest)
        now = time.monotonic()
        if hit and hit[0] > now:
            return hit[1]
        token = encode(Principal(sub="gateway", role=Role.service), self.secret)
        try:
            r = await client.post(self.url, json={"api_key": key},
                                  headers={"X-Seteli-Principal": token}, timeout=5.0)
        except httpx.HTTPError as exc:
            raise ConnectionError("registry not reachable to verify the API key") from exc
        if r.status_code == 401:
            raise InvalidCredentials("unknown or revoked API key")
        if r.status_code != 200:
            raise ConnectionError(f"registry answered {r.status_code} to a key check")
        body = r.json()
        principal = Principal(sub=f"api-key:{body['key_id']}", role=Role.provider,
                              provider_id=body["provider_id"])
        self._cache[digest] = (now + self.cache_seconds, principal)
        self._cache.move_to_end(digest)
        while len(self._cache) > self.max_entries:
            self._cache.popitem(last=False)
        return principal
