from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from kit.persons import DEV_ENCRYPTION_KEY, CodeCipher
from kit.settings import PersonKeySettings, ServiceSettings


class Settings(ServiceSettings, PersonKeySettings):
    model_config = SettingsConfigDict(env_prefix="VOUCHER_", extra="ignore")

    service_name: str = "voucher"
    port: int = 8002
    database_url: str = "sqlite+aiosqlite:///var/voucher.db"
    outbox_batch: int = 1_000  # a bulk issuance writes thousands of events at once
    hetu_encryption_key: str = Field(
        default=DEV_ENCRYPTION_KEY,
        description="AES-256-GCM key (32 bytes, base64) for the identity codes kept at rest")
    validity_days: int = Field(default=180, ge=1, le=3660,
                               description="default validity of a voucher from issuance")
    choice_days: int = Field(default=30, ge=1, le=3660,
                             description="default time a holder has to choose a provider")
    outcome_days: int = Field(default=120, ge=1, le=3660,
                              description="time after completion (or after the voucher's "
                              "validity, when it never completed) for the outcome to be "
                              "claimed; then the outcome is recorded as not achieved")
    lifecycle_interval_seconds: float = Field(
        default=300.0, gt=0, description="how often expiry and outcome deadlines are run")
    books_check_interval_seconds: float = Field(
        default=3600.0, gt=0, description="how often every account and budget usage total is "
        "checked against the transfers (services/voucher/use_cases/books.py)")
    bulk_max_rows: int = Field(default=10_000, ge=1, le=100_000)
    issuance_batch_max: int = Field(
        default=64, ge=1, le=1_000, description="concurrent single issuances by one admin from "
        "one budget written together in one transaction, at most this many (1: each alone)")

    @model_validator(mode="after")
    def _safe_key(self) -> "Settings":
        CodeCipher(self.hetu_encryption_key)  # refuses a key that is not 32 bytes
        if self.env == "production" and self.hetu_encryption_key == DEV_ENCRYPTION_KEY:
            raise ValueError("VOUCHER_HETU_ENCRYPTION_KEY must be set in production")
        return self
