from pydantic_settings import SettingsConfigDict

from kit.settings import CommonSettings


class Settings(CommonSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    port: int = 8000
    registry_url: str = "http://127.0.0.1:8001"
    voucher_url: str = "http://127.0.0.1:8002"
    matching_url: str = "http://127.0.0.1:8003"
    upstream_timeout_seconds: float = 10.0
    upstream_connect_timeout_seconds: float = 2.0
    upstream_pool_size: int = 200
