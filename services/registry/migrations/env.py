"""Alembic environment of the registry service (version table alembic_version_registry)."""

from kit.migrate import run_env
from services.registry.models import metadata
from services.registry.settings import Settings

run_env(metadata, Settings)
