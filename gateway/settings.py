"""Gateway settings (prefix ``GATEWAY_``). Dev mode is refused outside loopback and in
production, so a deployment can never hand out tokens from the demo login.

"Loopback" is checked against every address the gateway is told to bind: ``GATEWAY_HOST`` and,
when it runs under ``uvicorn`` or ``gunicorn``, the ``--host``/``--bind`` of their command line
(and ``UVICORN_HOST``), since ``uvicorn gateway.main:app --host 0.0.0.0`` does not go through
``GATEWAY_HOST``. At request time the dev endpoints also answer only loopback callers.
"""

from __future__ import annotations

import ipaddress
import os
import sys
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from kit.settings import CommonSettings, PersonKeySettings

DEV_SESSION_SECRET = "dev-only-session-secret-change-me-000000"


def is_loopback(host: str) -> bool:
    host = host.strip().strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _server_program(argv: list[str]) -> str | None:
    first = argv[0] if argv else ""
    for program in ("uvicorn", "gunicorn"):
        if Path(first).name.startswith(program) or f"/{program}/" in first:
            return program
    return None


def command_line_hosts(argv: list[str] | None = None,
                       environ: dict[str, str] | None = None) -> list[str]:
    """The addresses a ``uvicorn``/``gunicorn`` command line binds (``"*"`` for a socket it
    cannot name, e.g. ``--fd``); empty when not run by one of them."""
    argv = sys.argv if argv is None else argv
    environ = dict(os.environ) if environ is None else environ
    program = _server_program(argv)
    if program is None:
        return []
    hosts: list[str] = []
    options = {"uvicorn": ("--host",), "gunicorn": ("-b", "--bind")}[program]
    for i, arg in enumerate(argv):
        name, eq, value = arg.partition("=")
        if name in options:
            value = value if eq else (argv[i + 1] if i + 1 < len(argv) else "")
            if program == "gunicorn":
                value = value.rsplit(":", 1)[0] if not value.startswith("unix:") else "*"
            hosts.append(value)
        elif name == "--fd":
            hosts.append("*")
    if program == "uvicorn" and not hosts and environ.get("UVICORN_HOST"):
        hosts.append(environ["UVICORN_HOST"])
    return hosts


class Settings(CommonSettings, PersonKeySettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    port: int = 8000
    public_url: str = Field(default="", description="external https:// URL when behind TLS")
    registry_url: str = Field(default="http://127.0.0.1:8001", description="the registry's "
                              "base URL, or several instances' separated by commas")
    voucher_url: str = Field(default="http://127.0.0.1:8002", description="the voucher "
                             "service's base URL, or several instances' separated by commas")
    matching_url: str = Field(default="http://127.0.0.1:8003", description="the matching "
                              "service's base URL, or several instances' separated by commas")
    upstream_down_seconds: float = Field(
        default=5.0, gt=0, description="an instance whose connection failed is skipped this "
        "long (round robin goes on over the others)")
    upstream_health_seconds: float = Field(
        default=2.0, gt=0, description="how often each instance of a service that has several "
        "is asked for /readyz (one that is not ready is skipped)")
    upstream_timeout_seconds: float = 10.0
    upstream_connect_timeout_seconds: float = 2.0
    upstream_pool_size: int = 200
    max_body_bytes: int = Field(default=1_048_576,
                                description="largest request body forwarded (413 above it)")
    upstream_client: Literal["h1", "aiohttp", "httpx"] = Field(
        default="h1", description="HTTP client to the services (see docs/BENCHMARKS.md)")
    upstream_keepalive_seconds: float = Field(
        default=4.0, description="idle pooled connections are dropped after this; keep it "
        "below the services' keep-alive timeout (uvicorn: 5 s)")

    dev_mode: bool | None = Field(
        default=None, description="demo login and /auth/dev-token; default on in development")
    session_secret: str = DEV_SESSION_SECRET
    session_ttl_seconds: int = 8 * 3600
    api_key_cache_seconds: float = Field(
        default=30.0, description="how long a verified API key is trusted without asking the "
        "registry again (a revoked key stops working at most this much later)")
    api_key_cache_size: int = 10_000

    oidc_issuer: str = Field(default="", description="e.g. Suomi.fi e-Identification issuer")
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_scopes: str = "openid profile"
    oidc_pkce: bool = Field(default=True, description="send a PKCE code challenge (S256)")
    oidc_acr_values: str = Field(
        default="", description="acr_values asked for at login, e.g. Suomi.fi's "
        "http://ftn.ficora.fi/2017/loa2 (substantial)")
    oidc_hetu_claim: str = Field(
        default="nationalIdentificationNumber",
        description="claim carrying the henkilötunnus (Suomi.fi e-Identification's name)")
    oidc_admin_region_claim: str = Field(
        default="seteli_admin_region",
        description="claim naming the region of a region admin (set by the identity provider)")

    rate_per_second: float = Field(default=50.0, description="requests per second per caller")
    rate_burst: int = Field(default=100, description="requests a caller may burst")
    auth_failure_rate_per_second: float = Field(
        default=1.0, description="failed credential checks allowed per client address")
    auth_failure_burst: int = Field(default=20, description="failed checks a client may burst")
    metrics_public: bool = Field(
        default=False, description="serve /metrics to anyone; by default only to loopback and "
        "private-network callers that do not come through a proxy")
    cors_origins: list[str] = Field(default_factory=list,
                                    description="provider web origins allowed by CORS")

    @property
    def tls(self) -> bool:
        return self.public_url.startswith("https://")

    def instances(self) -> dict[str, list[str]]:
        """Each service's instances (base URLs, in the order given)."""
        found = {name: [u.strip().rstrip("/") for u in url.split(",") if u.strip()]
                 for name, url in (("registry", self.registry_url),
                                   ("voucher", self.voucher_url),
                                   ("matching", self.matching_url))}
        for name, urls in found.items():
            if not urls:
                raise ValueError(f"GATEWAY_{name.upper()}_URL names no instance")
        return found

    def bind_hosts(self) -> list[str]:
        return [self.host, *command_line_hosts()]

    @model_validator(mode="after")
    def _safe(self) -> Settings:
        public = [h for h in self.bind_hosts() if not is_loopback(h)]
        if self.dev_mode is None:
            self.dev_mode = self.env == "development" and not public
        if self.dev_mode and self.env == "production":
            raise ValueError("dev_mode cannot be on when SETELI_ENV=production")
        if self.dev_mode and public:
            raise ValueError(f"dev_mode is allowed only on loopback, not when binding "
                             f"{', '.join(public)}")
        self.instances()
        if self.env == "production" and self.session_secret == DEV_SESSION_SECRET:
            raise ValueError("GATEWAY_SESSION_SECRET must be set in production")
        return self
