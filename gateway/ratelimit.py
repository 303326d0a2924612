"""Per-caller token buckets in memory: a caller over its rate gets 429 with Retry-After, and
cannot slow down anyone else (the check is O(1) and happens before any upstream work).

Callers are principals (``sub``), or client addresses for anonymous requests. The number of
buckets is bounded: the least recently seen caller is forgotten first (and starts again with a
full bucket, which errs on the side of letting a request through)."""

from __future__ import annotations

import math
import time
from collections import OrderedDict


class RateLimiter:
    def __init__(self, rate: float, burst: int, *, max_callers: int = 100_000) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self.max_callers = max_callers
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def _tokens(self, caller: str, now: float) -> float:
        tokens, last = self._buckets.get(caller, (float(self.burst), now))
        return min(float(self.burst), tokens + max(0.0, now - last) * self.rate)

    def take(self, caller: str, now: float | None = None) -> float:
        """0 if the request may go (and counts it); else the seconds to wait before the next
        one may."""
        now = time.monotonic() if now is None else now
        tokens = self._tokens(caller, now)
        if tokens >= 1.0:
            self._buckets[caller] = (tokens - 1.0, now)
            self._buckets.move_to_end(caller)
            if len(self._buckets) > self.max_callers:
                self._buckets.popitem(last=False)
            return 0.0
        self._buckets[caller] = (tokens, now)
        return (1.0 - tokens) / self.rate

    def wait(self, caller: str, now: float | None = None) -> float:
        """Like :meth:`take` without counting: how long until one request may go."""
        now = time.monotonic() if now is None else now
        tokens = self._tokens(caller, now)
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate

    @staticmethod
    def retry_after(wait: float) -> str:
        return str(max(1, math.ceil(wait)))
