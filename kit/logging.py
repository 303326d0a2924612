"""JSON logs with structlog; the request id is bound per request through contextvars.

Tracebacks are logged without the frames' local variables (they hold tokens, keys, request
bodies and, at login, the henkilötunnus) and at most ``MAX_FRAMES`` frames; a whole log line is
at most ``MAX_LINE`` characters (a longer one keeps its event, level and request id and has its
long values cut)."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

MAX_FRAMES = 20
MAX_LINE = 16_000
MAX_VALUE = 2_000


def without_locals() -> structlog.types.Processor:
    """The exception as a dict, without the frames' locals, innermost frames kept."""
    return structlog.processors.ExceptionRenderer(structlog.tracebacks.ExceptionDictTransformer(
        show_locals=False, max_frames=MAX_FRAMES))


def _cut(value: Any) -> Any:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= MAX_VALUE else text[:MAX_VALUE] + "…[cut]"


def bounded(renderer: structlog.types.Processor, limit: int = MAX_LINE
            ) -> structlog.types.Processor:
    """``renderer`` whose output is at most about ``limit`` characters."""

    def render(logger: Any, name: str, event: MutableMapping[str, Any]) -> Any:
        out = renderer(logger, name, event)
        if len(out) <= limit:
            return out
        short = {k: (v if isinstance(v, int | float | bool) or v is None else _cut(v))
                 for k, v in event.items()}
        short["truncated"] = True
        out = renderer(logger, name, short)
        if len(out) <= limit:
            return out
        keep = ("event", "level", "timestamp", "service", "request_id")
        return renderer(logger, name, {k: short[k] for k in keep if k in short}
                        | {"truncated": True})

    return render


def configure_logging(level: str = "INFO", *, json: bool = True, service: str = "") -> None:
    lvl = logging.getLevelName(level.upper())
    if not isinstance(lvl, int):
        lvl = logging.INFO
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    def add_service(_: object, __: str, event: dict[str, object]) -> dict[str, object]:
        if service:
            event.setdefault("service", service)
        return event

    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            add_service,  # type: ignore[list-item]
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            without_locals(),
            bounded(renderer),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(lvl),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=max(lvl, logging.WARNING), stream=sys.stderr, format="%(message)s")
