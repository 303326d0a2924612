"""The registry consumes no other service's events yet."""

from __future__ import annotations

from collections.abc import Sequence

from kit.app import Runtime
from kit.messaging import Consumer


def consumers(rt: Runtime) -> Sequence[Consumer]:
    return []
