from pydantic import Field
from pydantic_settings import SettingsConfigDict

from kit.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MATCHING_", extra="ignore")

    service_name: str = "matching"
    port: int = 8003
    database_url: str = "sqlite+aiosqlite:///var/matching.db"
    outbox_batch: int = 1000  # a run writes one proposal event per voucher

    assignment_top_k: int = Field(default=50, ge=1, le=200,
                                  description="candidates per voucher in a default assignment")
    assignment_share_cap: float = Field(
        default=0.25, gt=0, le=1,
        description="the largest share of one run's vouchers any one provider may get")
    assignment_interval_seconds: float = Field(
        default=0.0, ge=0, description="run default assignment for every region with vouchers "
        "past their choice deadline this often (0: only when an admin starts a run)")
    statistics_interval_seconds: float = Field(
        default=0.0, ge=0, description="publish outcome statistics this often (0: only when "
        "an admin publishes)")
