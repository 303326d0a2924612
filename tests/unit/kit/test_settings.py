"""Settings come from the environment, one prefix per service, and refuse unsafe production."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from kit.db import normalise_url
from services.registry.settings import Settings as RegistrySettings
from services.voucher.settings import Settings as VoucherSettings


def test_prefix_per_service_and_shared_nats(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NATS_URL", "nats://127.0.0.1:1")
    monkeypatch.setenv("REGISTRY_DATABASE_URL", "sqlite+aiosqlite:///r.db")
    monkeypatch.setenv("VOUCHER_NATS_URL", "nats://127.0.0.1:2")
    reg, vou = RegistrySettings(), VoucherSettings()
    assert reg.database_url == "sqlite+aiosqlite:///r.db"
    assert vou.database_url.endswith("voucher.db")
    assert reg.nats_url == "nats://127.0.0.1:1"
    assert vou.nats_url == "nats://127.0.0.1:2"
    assert (reg.port, vou.port) == (8001, 8002)


def test_production_refuses_the_development_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SETELI_ENV", "production")
    monkeypatch.delenv("SETELI_PRINCIPAL_SECRET", raising=False)
    with pytest.raises(ValidationError, match="principal_secret"):
        RegistrySettings()
    monkeypatch.setenv("SETELI_PRINCIPAL_SECRET", "a-real-secret-of-enough-length-0123456789")
    with pytest.raises(ValidationError, match="REGISTRY_API_KEY_SECRET"):
        RegistrySettings()
    monkeypatch.setenv("REGISTRY_API_KEY_SECRET", "another-real-secret-of-enough-length-987")
    assert RegistrySettings().env == "production"


def test_plain_database_urls_get_async_drivers() -> None:
    assert normalise_url("postgresql://u@h:5432/d").startswith("postgresql+asyncpg://")
    assert normalise_url("sqlite:///var/x.db") == "sqlite+aiosqlite:///var/x.db"
