"""Who is calling: session tokens (citizens and admins, after OIDC or the dev login), provider
API keys (verified by the registry), and the principal forwarded to the services.

A henkilötunnus never leaves this module: it becomes ``person_key`` (HMAC-SHA256 with the shared
secret ``SETELI_PERSON_KEY_SECRET``) at login and is neither stored nor logged.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from dataclasses import dataclass

import httpx
import jwt

from contracts.principal import HEADER, Auth, Principal, Role, encode
from kit import persons

SESSION_AUDIENCE = "seteli-session"
SESSION_ISSUER = "seteli-gateway"
API_KEY_PREFIX = "stl_"


class InvalidCredentials(Exception):
    pass


def person_key(secret: str, henkilotunnus: str, *, allow_temporary: bool) -> str:
    """Validate a henkilötunnus and return its keyed hash (:func:`kit.persons.person_key`, the
    same function the voucher service keys holders with); the code itself is not kept."""
    try:
        return persons.person_key(secret, henkilotunnus, allow_temporary=allow_temporary)
    except persons.InvalidPersonCode as exc:
        raise InvalidCredentials("not a valid personal identity code") from exc


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
    return Principal.model_validate(claims | {"auth": Auth.session})


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


class SessionReader:
    """Reads session tokens, remembering the ones already checked until they expire (a busy
    caller presents the same token on every request; the signature is checked once)."""

    def __init__(self, secret: str, *, max_entries: int = 10_000) -> None:
        self.secret = secret
        self.max_entries = max_entries
        self._seen: OrderedDict[str, tuple[float, Principal]] = OrderedDict()
        self._revoked: OrderedDict[str, float] = OrderedDict()  # digest -> expiry

    def revoke(self, token: str) -> None:
        """Refuse ``token`` from now on (logout), until it would have expired anyway. Kept in
        this process's memory: with several gateway replicas, each learns only of its own."""
        self._seen.pop(token, None)
        try:
            claims = jwt.decode(token, self.secret, algorithms=["HS256"],
                                audience=SESSION_AUDIENCE, issuer=SESSION_ISSUER)
        except jwt.PyJWTError:
            return  # not a live session: nothing to revoke
        now = time.time()
        while self._revoked and next(iter(self._revoked.values())) <= now:
            self._revoked.popitem(last=False)
        self._revoked[hashlib.sha256(token.encode()).hexdigest()] = float(claims["exp"])
        if len(self._revoked) > self.max_entries:
            self._revoked.popitem(last=False)

    def read(self, token: str) -> Principal:
        hit = self._seen.get(token)
        now = time.time()
        if hit is not None and hit[0] > now:
            return hit[1]
        if self._revoked and hashlib.sha256(token.encode()).hexdigest() in self._revoked:
            raise InvalidCredentials("this session has ended")
        try:
            claims = jwt.decode(token, self.secret, algorithms=["HS256"],
                                audience=SESSION_AUDIENCE, issuer=SESSION_ISSUER)
        except jwt.PyJWTError as exc:
            raise InvalidCredentials("session token is invalid or expired") from exc
        principal = Principal.model_validate(claims | {"auth": Auth.session})
        self._seen[token] = (float(claims["exp"]), principal)
        if len(self._seen) > self.max_entries:
            self._seen.popitem(last=False)
        return principal


class PrincipalTokens:
    """Signs the principal token forwarded to the services. A token lives ``ttl`` seconds; one
    signed for a principal is reused for the first half of its life."""

    def __init__(self, secret: str, *, ttl: int = 60, max_entries: int = 10_000) -> None:
        self.secret = secret
        self.ttl = ttl
        self.max_entries = max_entries
        self._signed: OrderedDict[tuple[str | None, ...], tuple[float, str]] = OrderedDict()

    def token(self, p: Principal) -> str:
        key = (p.sub, p.role.value, p.region, p.provider_id, p.person_key, p.auth.value)
        now = time.time()
        hit = self._signed.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        token = encode(p, self.secret, ttl_seconds=self.ttl)
        self._signed[key] = (now + self.ttl / 2, token)
        if len(self._signed) > self.max_entries:
            self._signed.popitem(last=False)
        return token


class ApiKeyVerifier:
    """Asks the registry whether an API key is live (``POST /internal/credentials/verify`` as
    the ``service`` role); remembers successful answers for ``cache_seconds`` in a bounded
    cache keyed by a digest of the key (the key itself is not kept). Concurrent requests with
    the same unchecked key share one call to the registry."""

    def __init__(self, registry_url: str, principal_secret: str, *, cache_seconds: float,
                 max_entries: int = 10_000, timeout: float = 5.0) -> None:
        self.url = registry_url.rstrip("/") + "/internal/credentials/verify"
        self.secret = principal_secret
        self.cache_seconds = cache_seconds
        self.max_entries = max_entries
        self.timeout = timeout
        self.calls = 0  # calls made to the registry (for tests and metrics)
        self._cache: OrderedDict[str, tuple[float, Principal]] = OrderedDict()
        self._pending: dict[str, asyncio.Future[Principal]] = {}

    def forget(self) -> None:
        self._cache.clear()

    async def verify(self, client: httpx.AsyncClient, key: str) -> Principal:
        digest = hashlib.sha256(key.encode()).hexdigest()
        hit = self._cache.get(digest)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        pending = self._pending.get(digest)
        if pending is not None:
            try:
                return await asyncio.shield(pending)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if not pending.cancelled() or (task is not None and task.cancelling()):
                    raise
                return await self.verify(client, key)  # the asking request went away: ask again
        future: asyncio.Future[Principal] = asyncio.get_running_loop().create_future()
        self._pending[digest] = future
        try:
            principal = await self._ask(client, key)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning when nobody waits
            raise
        else:
            future.set_result(principal)
            if self.cache_seconds > 0:
                self._cache[digest] = (time.monotonic() + self.cache_seconds, principal)
                self._cache.move_to_end(digest)
                while len(self._cache) > self.max_entries:
                    self._cache.popitem(last=False)
            return principal
        finally:
            del self._pending[digest]

    async def _ask(self, client: httpx.AsyncClient, key: str) -> Principal:
        self.calls += 1
        token = encode(Principal(sub="gateway", role=Role.service), self.secret)
        try:
            r = await client.post(self.url, json={"api_key": key},
                                  headers={HEADER: token}, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise ConnectionError("registry not reachable to verify the API key") from exc
        if r.status_code == 401:
            raise InvalidCredentials("unknown or revoked API key")
        if r.status_code != 200:
            raise ConnectionError(f"registry answered {r.status_code} to a key check")
        body = r.json()
        return Principal(sub=f"api-key:{body['key_id']}", role=Role.provider,
                         provider_id=body["provider_id"], auth=Auth.api_key)
