"""Forwarding of ``/api/v1/...`` to the owning service through one pooled client."""

from __future__ import annotations

import httpx
from fastapi import Request
from fastapi.responses import Response

from kit.errors import problem_response

HOP_BY_HOP = frozenset(
    {
        "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
        "trailers", "transfer-encoding", "upgrade", "host", "content-length",
    }
)
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


class Upstreams:
    def __init__(self, urls: dict[str, str], *, timeout: float, connect_timeout: float,
                 pool_size: int) -> None:
        self.urls = urls
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            limits=httpx.Limits(
                max_connections=pool_size, max_keepalive_connections=pool_size
            ),
        )

    async def close(self) -> None:
        await self.client.aclose()

    async def forward(self, request: Request, service: str, path: str, request_id: str) -> Response:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        headers["x-request-id"] = request_id
        url = self.urls[service] + path
        body = await request.body()
        attempts = 2 if request.method in IDEMPOTENT else 1
        for attempt in range(attempts):
            try:
                upstream = await self.client.request(
                    request.method, url, params=request.query_params, content=body,
                    headers=headers,
                )
            except httpx.TimeoutException:
                return problem_response(
                    request, status=504, title="Gateway Timeout",
                    detail=f"the {service} service did not answer in time",
                )
            except httpx.TransportError:
                if attempt + 1 < attempts:
                    continue
                return problem_response(
                    request, status=502, title="Bad Gateway",
                    detail=f"the {service} service is not reachable",
                )
            out_headers = {
                k: v for k, v in upstream.headers.items()
                if k.lower() not in HOP_BY_HOP
                and k.lower() not in ("x-request-id", "content-encoding")
            }
            return Response(upstream.content, status_code=upstream.status_code, headers=out_headers)
        raise AssertionError("unreachable")  # pragma: no cover
