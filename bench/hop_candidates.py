"""Gateway apps with upstream clients that are candidates only (not dependencies of the gateway),
for ``bench/gateway_hop.py``: ``uvicorn bench.hop_candidates:app`` with ``HOP_CANDIDATE`` naming
the client. Installed by hand to be measured, e.g. ``.venv/bin/pip install aiosonic``.
"""

from __future__ import annotations

import os
from typing import Any

import gateway.main
from gateway.upstreams import Client, UpstreamTimeout, UpstreamUnreachable


class AiosonicClient:
    def __init__(
        self, *, timeout: float, connect_timeout: float, pool_size: int, keepalive_seconds: float
    ) -> None:
        from aiosonic import HTTPClient, TCPConnector  # type: ignore[import-not-found]
        from aiosonic.pools import PoolConfig  # type: ignore[import-not-found]
        from aiosonic.timeout import Timeouts  # type: ignore[import-not-found]

        self.client = HTTPClient(
            connector=TCPConnector(
                pool_configs={
                    ":default": PoolConfig(
                        size=pool_size, max_conn_idle_ms=int(keepalive_seconds * 1000)
                    )
                },
                timeouts=Timeouts(sock_connect=connect_timeout, request_timeout=timeout),
            )
        )

    async def send(
        self, method: str, url: str, params: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        import aiosonic.exceptions as errors  # type: ignore[import-not-found]

        full = f"{url}?{params}" if params else url
        try:
            r = await self.client.request(full, method=method, headers=headers, data=body or None)
            content: bytes = await r.content()
        except (errors.RequestTimeout, errors.ReadTimeout) as exc:
            raise UpstreamTimeout from exc
        except (OSError, errors.ConnectTimeout, errors.HttpParsingError) as exc:
            raise UpstreamUnreachable from exc
        pairs: Any = r.raw_headers
        return r.status_code, [(k, v) for k, v in pairs], content

    async def close(self) -> None:
        await self.client.connector.cleanup()


CANDIDATES: dict[str, Any] = {"aiosonic": AiosonicClient}


def _make_client(kind: str, **kwargs: Any) -> Client:
    client: Client = CANDIDATES[os.environ.get("HOP_CANDIDATE", "aiosonic")](**kwargs)
    return client


gateway.main.make_client = _make_client  # type: ignore[assignment]
app = gateway.main.create_app()
