"""The registry consumes no other service's events yet."""

from __future__ import annotations

from collections.abc import Sequence

from kit.consumer import Consumer
from kit.runtime import Runtime


def consumers(rt: Runtime) -> Sequence[Consumer]:
    return []
