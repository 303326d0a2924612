"""Opaque cursors and the ``limit`` query parameter (default 50, max 200)."""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any

from fastapi import Query

from kit.errors import Unprocessable

LimitQuery = Annotated[int, Query(ge=1, le=200, description="page size (1–200)")]


class Cursor:
    @staticmethod
    def encode(state: dict[str, Any]) -> str:
        raw = json.dumps(state, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @staticmethod
    def decode(cursor: str) -> dict[str, Any]:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            state = json.loads(raw)
            if not isinstance(state, dict):
                raise ValueError
            return state
        except (ValueError, json.JSONDecodeError) as exc:
            raise Unprocessable.field("cursor", "is not a cursor this API returned") from exc
