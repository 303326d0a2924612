"""Alembic environment of the voucher service (version table alembic_version_voucher)."""

from kit.migrate import run_env
from services.voucher.models import metadata
from services.voucher.settings import Settings

run_env(metadata, Settings)
