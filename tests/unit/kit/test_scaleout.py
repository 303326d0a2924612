"""Pure parts of running several replicas: periods of a job, NATS_URL with several servers,
retention settings that outlive redelivery."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from kit.broker import server_urls
from kit.jobs import period_of, until_next_period
from kit.settings import ServiceSettings


def test_every_replica_cuts_time_into_the_same_periods() -> None:
    assert period_of(1_000.0, 300) == period_of(1_199.9, 300) == 3
    assert period_of(1_200.0, 300) == 4
    assert until_next_period(1_000.0, 300) == pytest.approx(200.0)
    assert until_next_period(1_200.0, 300) == pytest.approx(300.0)
    assert period_of(0.39, 0.2) == 1


def test_nats_url_names_one_or_several_servers() -> None:
    assert server_urls("nats://a:4222") == ["nats://a:4222"]
    assert server_urls(" nats://a:4222, nats://b:4222 ,nats://c:4222,") == [
        "nats://a:4222", "nats://b:4222", "nats://c:4222"]
    with pytest.raises(ValueError, match="no server"):
        server_urls(" , ")


def test_retention_must_outlive_redelivery_and_the_duplicate_window() -> None:
    assert ServiceSettings().retention_hours == 168
    with pytest.raises(ValidationError, match="redelivery horizon"):
        ServiceSettings(retention_hours=0.01)  # 36 s < the 120 s duplicate window
    with pytest.raises(ValidationError, match="redelivery horizon"):
        ServiceSettings(retention_hours=1, consumer_max_deliver=10,
                        consumer_ack_wait_seconds=600)  # 1 h < 10 × 10 min
    with pytest.raises(ValidationError, match="dead_letter_retention_hours"):
        ServiceSettings(dead_letter_retention_hours=0.01)
    with pytest.raises(ValidationError):
        ServiceSettings(idempotency_retention_hours=1)
