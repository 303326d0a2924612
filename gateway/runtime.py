"""What a running gateway holds, shared by the API proxy (pure ASGI) and the pages (FastAPI):
settings, the upstream client, the credential checks and the rate limiters."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from contracts.principal import Principal
from gateway.identity import (
    API_KEY_PREFIX,
    ApiKeyVerifier,
    InvalidCredentials,
    PrincipalTokens,
    SessionReader,
)
from gateway.ratelimit import RateLimiter
from gateway.settings import Settings
from gateway.upstreams import Upstreams


@dataclass
class Gate:
    settings: Settings
    urls: dict[str, str]
    sessions: SessionReader
    tokens: PrincipalTokens
    keys: ApiKeyVerifier
    limiter: RateLimiter
    auth_failures: RateLimiter
    session_cookie: str
    csrf_cookie: str
    # made in the lifespan (they belong to the running event loop)
    upstreams: Upstreams | None = None
    http: httpx.AsyncClient | None = None
    extra: dict[str, object] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> Gate:
        # the first instance of each service (documents, health, API keys); the proxy
        # balances over all of them (gateway.upstreams)
        urls = {name: found[0] for name, found in settings.instances().items()}
        # Over TLS the cookies get the __Host- prefix: Secure, Path=/, no Domain, so that no
        # other host (a sibling subdomain) can set or overwrite them.
        prefix = "__Host-" if settings.tls else ""
        return cls(
            settings=settings, urls=urls,
            sessions=SessionReader(settings.session_secret),
            tokens=PrincipalTokens(settings.principal_secret),
            keys=ApiKeyVerifier(urls["registry"], settings.principal_secret,
                                cache_seconds=settings.api_key_cache_seconds,
                                max_entries=settings.api_key_cache_size),
            limiter=RateLimiter(settings.rate_per_second, settings.rate_burst),
            auth_failures=RateLimiter(settings.auth_failure_rate_per_second,
                                      settings.auth_failure_burst),
            session_cookie=f"{prefix}seteli_session", csrf_cookie=f"{prefix}seteli_csrf",
        )

    async def authenticate(self, authorization: str | None, api_key: str | None,
                           session_cookie: str | None) -> tuple[Principal | None, bool]:
        """(principal, by_cookie). Credentials that do not check out raise
        :class:`InvalidCredentials` (a 401, never a silent anonymous request); a registry that
        cannot be asked raises :class:`ConnectionError`."""
        if authorization:
            scheme, _, token = authorization.strip().partition(" ")
            token = token.strip()
            if scheme.lower() != "bearer" or not token:
                raise InvalidCredentials("use Authorization: Bearer <token or API key>")
            if token.startswith(API_KEY_PREFIX):
                api_key = token
            else:
                return self.sessions.read(token), False
        if api_key:
            assert self.http is not None
            return await self.keys.verify(self.http, api_key.strip()), False
        if session_cookie:
            return self.sessions.read(session_cookie), True
        return None, False
