"""Typed settings from the environment; one prefix per service (``REGISTRY_``, ``VOUCHER_`` …).

``NATS_URL`` and ``SETELI_ENV`` are shared by all parts; a prefixed variable overrides them.
"""

from __future__ import annotations

import os
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_PRINCIPAL_SECRET = "dev-only-principal-secret-change-me-0000"


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    env: Literal["development", "test", "production"] = Field(
        default="development", description="SETELI_ENV: development, test or production"
    )
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    log_json: bool = True
    principal_secret: str = Field(
        default=DEV_PRINCIPAL_SECRET,
        description="HS256 secret shared by the gateway and the services for principal tokens",
    )

    @model_validator(mode="after")
    def _shared_defaults(self) -> CommonSettings:
        if "env" not in self.model_fields_set and os.environ.get("SETELI_ENV"):
            self.env = os.environ["SETELI_ENV"]  # type: ignore[assignment]
        if "principal_secret" not in self.model_fields_set and os.environ.get(
            "SETELI_PRINCIPAL_SECRET"
        ):
            self.principal_secret = os.environ["SETELI_PRINCIPAL_SECRET"]
        if self.env == "production" and self.principal_secret == DEV_PRINCIPAL_SECRET:
            raise ValueError("principal_secret must be set in production")
        return self


class ServiceSettings(CommonSettings):
    """Settings of one backend service. Subclasses set ``env_prefix`` and the defaults."""

    service_name: str = "service"
    database_url: str = "sqlite+aiosqlite:///var/service.db"
    database_schema: str | None = Field(
        default=None, description="PostgreSQL schema to use (search_path); SQLite ignores it"
    )
    nats_url: str = ""
    stream_replicas: int = 1
    outbox_poll_seconds: float = 0.5
    outbox_batch: int = 200
    consumer_max_deliver: int = 5
    consumer_ack_wait_seconds: float = 30.0
    consumer_batch: int = 100

    @model_validator(mode="after")
    def _nats_default(self) -> ServiceSettings:
        if not self.nats_url:
            self.nats_url = os.environ.get("NATS_URL", "nats://127.0.0.1:4222")
        return self
