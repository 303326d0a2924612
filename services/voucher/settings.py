from pydantic_settings import SettingsConfigDict

from kit.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="VOUCHER_", extra="ignore")

    service_name: str = "voucher"
    port: int = 8002
    database_url: str = "sqlite+aiosqlite:///var/voucher.db"
