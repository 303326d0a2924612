"""Alembic environment of the matching service (version table alembic_version_matching)."""

from kit.migrate import run_env
from services.matching.models import metadata

run_env(metadata)
