"""The voucher and matching services as uvicorn apps for ``bench/assignment_run.py
--processes``: built as in production from their settings in the environment, except that the
clock both read for choice deadlines is moved ``BENCH_DAYS_ON`` days on (the benchmark issues
vouchers with today's deadline and assigns them "tomorrow").

    uvicorn assignment_apps:voucher    (PYTHONPATH=bench/)
    uvicorn assignment_apps:matching
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from services.matching.use_cases.clock import today


def _moved_on() -> Any:
    day = today() + timedelta(days=int(os.environ.get("BENCH_DAYS_ON", "1")))
    return lambda: day


def __getattr__(name: str) -> Any:
    if name == "voucher":
        import services.voucher.use_cases.assignments as v_assign
        from services.voucher.main import create_app as voucher_app

        v_assign.today = _moved_on()  # type: ignore[attr-defined]
        return voucher_app()
    if name == "matching":
        import services.matching.use_cases.assignments as m_assign
        from services.matching.main import create_app as matching_app

        m_assign.today = _moved_on()  # type: ignore[attr-defined]
        return matching_app()
    raise AttributeError(name)
