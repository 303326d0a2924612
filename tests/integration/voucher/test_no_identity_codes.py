"""No henkilötunnus in any log line, event or stored row but the encrypted one, whatever the
admin sends: valid and invalid codes, one at a time and in bulk, refusals and retries."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import nats
import pytest
import structlog
from sqlalchemy import select

from services.voucher.models import metadata
from tests.integration.voucher.conftest import HETU, Market
from tests.integration.voucher.test_bulk import csv_file
from tests.support import eventually

IDENTITY_CODE = re.compile(r"\d{6}[-+A-FU-Y]\d{3}[0-9A-Y]")


@pytest.fixture
def log_lines(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every line any structlog logger or stdlib logger of this process writes."""
    lines: list[str] = []
    write = structlog.PrintLogger.msg

    def recording(self: structlog.PrintLogger, message: str) -> None:
        lines.append(message)
        write(self, message)

    monkeypatch.setattr(structlog.PrintLogger, "msg", recording)
    for name in ("debug", "info", "warning", "error", "critical", "exception"):
        monkeypatch.setattr(structlog.PrintLogger, name, recording)

    class Recorder(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Recorder(level=logging.DEBUG)
    logging.getLogger().addHandler(handler)
    # The services log at WARNING in tests, and their loggers are cached that way: for this
    # test every level of every structlog logger writes (what production at DEBUG would).
    everything = structlog.make_filtering_bound_logger(logging.DEBUG)
    for level in (logging.INFO, logging.WARNING, logging.ERROR):
        quiet = structlog.make_filtering_bound_logger(level)
        for name in ("debug", "info", "warning", "msg", "log", "adebug", "ainfo", "awarning"):
            if hasattr(everything, name):
                monkeypatch.setattr(quiet, name, getattr(everything, name))
    yield lines
    logging.getLogger().removeHandler(handler)


async def test_no_identity_code_in_logs_events_or_rows(log_lines: list[str],
                                                       market: Market) -> None:
    b = await market.open_budget(("region", 1_000_000))
    for n, (hetu, status) in enumerate(((HETU, 201), ("010280-952X", 422),
                                        ("311380-952L", 422))):
        r = await market.issue(b["id"], hetu=hetu, value=10_000,
                               headers=market.admin() | {"Idempotency-Key": f"k-{n}"})
        assert r.status_code == status, r.text
        assert not IDENTITY_CODE.search(r.text)
    r = await market.issue(b["id"], value=10**9)  # refused by validation, with the code inside
    assert r.status_code == 422 and not IDENTITY_CODE.search(r.text)
    text, _ = csv_file(200)
    r = await market.client.post(f"/vouchers/bulk-issuance?budget_id={b['id']}",
                                 content=text.encode(),
                                 headers=market.admin() | {"content-type": "text/csv"})
    assert r.status_code == 201 and not IDENTITY_CODE.search(r.text)
    await market.client.get("/vouchers", headers=market.citizen())
    stored = []
    async with market.db.reader() as s:
        for name, table in metadata.tables.items():
            for row in (await s.execute(select(table))).all():
                stored.append((name, str(tuple(v for v in row if not isinstance(v, bytes)))))
    leaks = [(name, IDENTITY_CODE.findall(row)[:2]) for name, row in stored
             if IDENTITY_CODE.search(row)]
    assert not leaks, leaks[:3]
    async def drained() -> bool:
        return bool(await market.app.state.runtime.relay.backlog() == 0)

    await eventually(drained, what="every event published")
    nc = await nats.connect(market.registry.nats_url)
    try:
        js = nc.jetstream()
        info = await js.stream_info("VOUCHER")
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            data = ((await js.get_msg("VOUCHER", seq)).data or b"").decode()
            assert not IDENTITY_CODE.search(data), seq
        assert info.state.messages > 150
    finally:
        await nc.close()
    assert len(log_lines) > 5  # the services did log (requests, refusals, the relay)
    assert not [line for line in log_lines if IDENTITY_CODE.search(line)]
