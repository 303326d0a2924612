"""Pieces every matching router uses."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from kit.runtime import RuntimeDep
from services.matching.settings import Settings


def settings_of(rt: RuntimeDep) -> Settings:
    s = rt.settings
    assert isinstance(s, Settings)
    return s


SettingsDep = Annotated[Settings, Depends(settings_of)]
