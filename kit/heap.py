"""The garbage collector and a long-running server process."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def settled_heap() -> Iterator[None]:
    """While an app runs, every object alive after its start-up (modules, models, routes,
    schemas, pools) is in the collector's permanent generation, so that a full
    collection walks only what requests made since. A service process holds about 160,000
    objects after start-up; a full collection of them took 77-93 ms, a pause of every request
    in flight (docs/BENCHMARKS.md, "Garbage collection pauses"). On stop they are handed back
    to the collector (a process that starts many apps, as the tests do, frees the old ones)."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
