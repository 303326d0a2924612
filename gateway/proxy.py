"""Forwarding of ``/api/v1/...`` to the owning service through one pooled client.

Two interchangeable clients (aiohttp, httpx); ``bench/gateway_hop.py`` measures both and the
default is the faster. Only idempotent methods are retried (once, on a connection failure);
a timeout is a 504 and an unreachable service a 502, both problem+json, never a hang.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Protocol

import aiohttp
import httpx
from fastapi import Request
from fastapi.responses import Response

from kit.errors import problem_response

HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
    "transfer-encoding", "upgrade", "host", "content-length",
})
# Never pass these through from the client: identity is the gateway's to assert.
STRIPPED_FROM_CLIENT = frozenset({"x-seteli-principal", "authorization", "cookie", "x-api-key"})
STRIPPED_FROM_UPSTREAM = frozenset({"x-request-id", "content-encoding", "server", "date"})
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


class UpstreamTimeout(Exception):
    pass


class UpstreamUnreachable(Exception):
    pass


class Client(Protocol):
    async def send(self, method: str, url: str, params: str, body: bytes,
                   headers: dict[str, str]) -> tuple[int, list[tuple[str, str]], bytes]: ...

    async def close(self) -> None: ...


class AiohttpClient:
    def __init__(self, *, timeout: float, connect_timeout: float, pool_size: int) -> None:
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=pool_size, limit_per_host=pool_size,
                                           keepalive_timeout=30),
            timeout=aiohttp.ClientTimeout(total=timeout, sock_connect=connect_timeout),
            auto_decompress=False,
            skip_auto_headers=("User-Agent", "Accept-Encoding"),
        )

    async def send(self, method: str, url: str, params: str, body: bytes,
                   headers: dict[str, str]) -> tuple[int, list[tuple[str, str]], bytes]:
        full = f"{url}?{params}" if params else url
        try:
            async with self.session.request(method, full, data=body or None,
                                            headers=headers) as r:
                content = await r.read()
                return r.status, list(r.headers.items()), content
        except TimeoutError as exc:
            raise UpstreamTimeout from exc
        except aiohttp.ClientError as exc:
            raise UpstreamUnreachable from exc

    async def close(self) -> None:
        await self.session.close()


class HttpxClient:
    def __init__(self, *, timeout: float, connect_timeout: float, pool_size: int) -> None:
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            limits=httpx.Limits(max_connections=pool_size, max_keepalive_connections=pool_size),
        )

    async def send(self, method: str, url: str, params: str, body: bytes,
                   headers: dict[str, str]) -> tuple[int, list[tuple[str, str]], bytes]:
        full = f"{url}?{params}" if params else url
        try:
            r = await self.client.request(method, full, content=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise UpstreamTimeout from exc
        except httpx.TransportError as exc:
            raise UpstreamUnreachable from exc
        return r.status_code, list(r.headers.multi_items()), r.content

    async def close(self) -> None:
        await self.client.aclose()


def make_client(kind: str, *, timeout: float, connect_timeout: float, pool_size: int) -> Client:
    cls = AiohttpClient if kind == "aiohttp" else HttpxClient
    return cls(timeout=timeout, connect_timeout=connect_timeout, pool_size=pool_size)


class Upstreams:
    def __init__(self, urls: Mapping[str, str], client: Client) -> None:
        self.urls = dict(urls)
        self.client = client

    async def close(self) -> None:
        await self.client.close()

    async def forward(self, request: Request, service: str, path: str, request_id: str,
                      principal_token: str | None) -> Response:
        headers = {k: v for k, v in request.headers.items()
                   if k not in HOP_BY_HOP and k not in STRIPPED_FROM_CLIENT}
        headers["x-request-id"] = request_id
        if principal_token:
            headers["x-seteli-principal"] = principal_token
        client_ip = request.client.host if request.client else ""
        headers["x-forwarded-for"] = client_ip
        body = await request.body()
        url = self.urls[service] + path
        attempts = 2 if request.method in IDEMPOTENT else 1
        for attempt in range(attempts):
            try:
                status, upstream_headers, content = await self.client.send(
                    request.method, url, request.url.query, body, headers)
            except UpstreamTimeout:
                return problem_response(request, status=504, title="Gateway Timeout",
                                        detail=f"the {service} service did not answer in time")
            except UpstreamUnreachable:
                if attempt + 1 < attempts:
                    await asyncio.sleep(0.05)
                    continue
                return problem_response(request, status=502, title="Bad Gateway",
                                        detail=f"the {service} service is not reachable")
            out = [(k, v) for k, v in upstream_headers
                   if k.lower() not in HOP_BY_HOP and k.lower() not in STRIPPED_FROM_UPSTREAM]
            response = Response(content, status_code=status)
            for k, v in out:
                response.headers.append(k, v)
            return response
        raise AssertionError("unreachable")  # pragma: no cover
