"""Alembic environment of the probe (version table alembic_version_probe)."""

from kit.migrate import run_env
from tests.probe import Settings, metadata

run_env(metadata, Settings)
