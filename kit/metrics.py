"""Prometheus metrics of a process. Each service runs in its own process, so the default
registry is per service; labels carry the service name for dashboards that merge them."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "seteli_http_requests_total", "HTTP requests served", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "seteli_http_request_duration_seconds",
    "HTTP request latency",
    ["service", "method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
OUTBOX_BACKLOG = Gauge(
    "seteli_outbox_backlog", "Outbox events committed but not yet published", ["service"]
)
OUTBOX_PUBLISHED = Counter(
    "seteli_outbox_published_total", "Outbox events published to JetStream", ["service"]
)
CONSUMER_LAG = Gauge(
    "seteli_consumer_lag", "Messages pending or unacknowledged for a durable consumer",
    ["service", "consumer"],
)
EVENTS_APPLIED = Counter(
    "seteli_events_applied_total", "Events applied by a consumer", ["service", "consumer"]
)
EVENTS_REDELIVERED = Counter(
    "seteli_events_duplicate_total", "Redelivered events skipped by the inbox",
    ["service", "consumer"],
)
DEAD_LETTERS = Counter(
    "seteli_dead_letters_total", "Events sent to the dead-letter subject", ["service", "consumer"]
)
JOB_RUNS = Counter(
    "seteli_job_runs_total", "Periods of a periodic job run by this instance (once per period "
    "across replicas)", ["service", "job"],
)
HOUSEKEEPING_PRUNED = Counter(
    "seteli_housekeeping_pruned_total", "Plumbing rows pruned after their retention",
    ["service", "table"],
)
