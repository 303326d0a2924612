"""Typed settings from the environment; one prefix per service (``REGISTRY_``, ``VOUCHER_`` …).

``NATS_URL`` and ``SETELI_ENV`` are shared by all parts; a prefixed variable overrides them.
"""

from __future__ import annotations

import os
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from kit.persons import DEV_PERSON_KEY_SECRET

DUPLICATE_WINDOW_SECONDS = 120.0  # JetStream's duplicate window of every stream (kit.broker)

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


class PersonKeySettings(BaseSettings):
    """For the parts that key persons (the gateway at login, the voucher service at issuance):
    one shared secret, ``SETELI_PERSON_KEY_SECRET`` (a prefixed variable overrides it)."""

    person_key_secret: str = Field(
        default=DEV_PERSON_KEY_SECRET,
        description="HMAC secret turning a henkilötunnus into the person key (shared)")
    hetu_allow_temporary: bool = Field(
        default=True, description="accept individual numbers 900-999 (test persons)")

    @model_validator(mode="after")
    def _shared_person_key(self) -> PersonKeySettings:
        if "person_key_secret" not in self.model_fields_set and os.environ.get(
            "SETELI_PERSON_KEY_SECRET"
        ):
            self.person_key_secret = os.environ["SETELI_PERSON_KEY_SECRET"]
        if "hetu_allow_temporary" not in self.model_fields_set and os.environ.get(
            "SETELI_HETU_ALLOW_TEMPORARY"
        ):
            self.hetu_allow_temporary = os.environ["SETELI_HETU_ALLOW_TEMPORARY"].lower() in (
                "1", "true", "yes", "on")
        env = getattr(self, "env", None) if "env" in self.model_fields_set else None
        env = env or os.environ.get("SETELI_ENV") or getattr(self, "env", "development")
        if env == "production" and self.person_key_secret == DEV_PERSON_KEY_SECRET:
            raise ValueError("SETELI_PERSON_KEY_SECRET must be set in production")
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
    retention_hours: float = Field(
        default=168.0, gt=0, description="published outbox rows and inbox rows older than this "
        "are pruned by the housekeeping job; longer than JetStream's duplicate window and any "
        "consumer's redelivery horizon (max_deliver × ack_wait)")
    dead_letter_retention_hours: float = Field(
        default=720.0, gt=0, description="dead letters are pruned after this (admins see them "
        "in /ops/dead-letters until then)")
    idempotency_retention_hours: float = Field(
        default=48.0, ge=24.0, description="how long an Idempotency-Key's first answer is kept")
    housekeeping_interval_seconds: float = Field(
        default=3600.0, gt=0, description="how often the housekeeping job prunes")

    @model_validator(mode="after")
    def _nats_default(self) -> ServiceSettings:
        if not self.nats_url:
            self.nats_url = os.environ.get("NATS_URL", "nats://127.0.0.1:4222")
        return self

    @model_validator(mode="after")
    def _retention_outlives_redelivery(self) -> ServiceSettings:
        horizon = max(DUPLICATE_WINDOW_SECONDS,
                      self.consumer_max_deliver * self.consumer_ack_wait_seconds)
        for name in ("retention_hours", "dead_letter_retention_hours"):
            if getattr(self, name) * 3600 <= horizon:
                raise ValueError(
                    f"{name} must be longer than JetStream's duplicate window and the "
                    f"consumers' redelivery horizon ({horizon:.0f} s)")
        return self
