"""Gateway settings (prefix ``GATEWAY_``). Dev mode is refused outside loopback and in
production, so a deployment can never hand out tokens from the demo login."""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from kit.settings import CommonSettings

DEV_SESSION_SECRET = "dev-only-session-secret-change-me-000000"
DEV_PERSON_KEY_SECRET = "dev-only-person-key-secret-change-me-000"


def is_loopback(host: str) -> bool:
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Settings(CommonSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    port: int = 8000
    public_url: str = Field(default="", description="external https:// URL when behind TLS")
    registry_url: str = "http://127.0.0.1:8001"
    voucher_url: str = "http://127.0.0.1:8002"
    matching_url: str = "http://127.0.0.1:8003"
    upstream_timeout_seconds: float = 10.0
    upstream_connect_timeout_seconds: float = 2.0
    upstream_pool_size: int = 200
    upstream_client: Literal["aiohttp", "httpx"] = Field(
        default="aiohttp", description="HTTP client to the services (see docs/BENCHMARKS.md)")

    dev_mode: bool | None = Field(
        default=None, description="demo login and /auth/dev-token; default on in development")
    session_secret: str = DEV_SESSION_SECRET
    session_ttl_seconds: int = 8 * 3600
    person_key_secret: str = Field(
        default=DEV_PERSON_KEY_SECRET,
        description="HMAC secret turning a henkilötunnus into the person key")
    hetu_allow_temporary: bool = Field(
        default=True, description="accept individual numbers 900-999 (test persons)")
    api_key_cache_seconds: float = 30.0

    oidc_issuer: str = Field(default="", description="e.g. Suomi.fi e-Identification issuer")
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_scopes: str = "openid profile"
    oidc_hetu_claim: str = Field(
        default="nationalIdentificationNumber",
        description="claim carrying the henkilötunnus (Suomi.fi e-Identification's name)")
    oidc_admin_region_claim: str = Field(
        default="seteli_admin_region",
        description="claim naming the region of a region admin (set by the identity provider)")

    rate_per_second: float = Field(default=50.0, description="requests per second per caller")
    rate_burst: int = Field(default=100, description="requests a caller may burst")
    cors_origins: list[str] = Field(default_factory=list,
                                    description="provider web origins allowed by CORS")

    @property
    def tls(self) -> bool:
        return self.public_url.startswith("https://")

    @model_validator(mode="after")
    def _safe(self) -> Settings:
        if self.dev_mode is None:
            self.dev_mode = self.env == "development" and is_loopback(self.host)
        if self.dev_mode and self.env == "production":
            raise ValueError("dev_mode cannot be on when SETELI_ENV=production")
        if self.dev_mode and not is_loopback(self.host):
            raise ValueError(f"dev_mode is allowed only on loopback, not on host {self.host}")
        if self.env == "production":
            for name, dev in (("session_secret", DEV_SESSION_SECRET),
                              ("person_key_secret", DEV_PERSON_KEY_SECRET)):
                if getattr(self, name) == dev:
                    raise ValueError(f"GATEWAY_{name.upper()} must be set in production")
        return self
