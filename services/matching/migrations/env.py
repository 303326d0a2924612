"""Alembic environment of the matching service (version table alembic_version_matching)."""

from kit.migrate import run_env
from services.matching.models import metadata
from services.matching.settings import Settings

run_env(metadata, Settings)
