from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from kit.settings import ServiceSettings

DEV_API_KEY_SECRET = "dev-only-api-key-secret-change-me-000000"


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REGISTRY_", extra="ignore")

    service_name: str = "registry"
    port: int = 8001
    database_url: str = "sqlite+aiosqlite:///var/registry.db"
    api_key_secret: str = Field(
        default=DEV_API_KEY_SECRET,
        description="HMAC secret for provider API key hashes; must be set in production",
    )
    expiry_interval_seconds: float = Field(
        default=300.0, description="how often accreditations past valid_until are expired "
        "(one small query when nothing is due); the first run comes one interval after start"
    )

    @model_validator(mode="after")
    def _production_secret(self) -> "Settings":
        if self.env == "production" and self.api_key_secret == DEV_API_KEY_SECRET:
            raise ValueError("REGISTRY_API_KEY_SECRET must be set in production")
        return self
