"""``/api/v1/...``: the public API, forwarded to the owning service (pure ASGI, in front of the
FastAPI router: the hop is measured in bench/gateway_hop.py and every step here is on its path).

For each request: find the owning service; identify the caller (session token, API key or
session cookie, see ``Gate.authenticate``); for a cookie, a write needs the CSRF header; take a
token from the caller's bucket (429 + Retry-After when empty); read the body (413 above the
limit); forward with a fresh principal token in ``X-Seteli-Principal`` (whatever the client
sent under that name is dropped) and the request id; pass the answer back. A service that does
not answer in time is a 504, one that cannot be reached a 502, credentials that cannot be
checked a 503 — all problem+json.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import structlog
from prometheus_client import Counter
from starlette.requests import Request, cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from contracts.principal import HEADER
from gateway import csrf
from gateway.identity import InvalidCredentials
from gateway.ratelimit import RateLimiter
from gateway.routing import ROUTES, body_limit, owner, resource_of
from gateway.runtime import Gate
from gateway.upstreams import (
    HOP_BY_HOP,
    STRIPPED_FROM_CLIENT,
    UpstreamTimeout,
    UpstreamUnreachable,
    response_headers,
)
from kit.errors import problem_response

PREFIX = "/api/v1"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PRINCIPAL_HEADER = HEADER.lower()
RATE_LIMITED = Counter("seteli_gateway_rate_limited_total", "Requests refused with 429",
                       ["reason"])
UPSTREAM_FAILURES = Counter("seteli_gateway_upstream_failures_total",
                            "Requests answered 502/504 because a service failed",
                            ["service", "kind"])
log = structlog.get_logger("gateway.proxy")


@dataclass(frozen=True)
class RouteLabel:
    """What the request-metrics middleware reads as the route template (bounded labels)."""

    path: str


LABELS = {resource: RouteLabel(f"{PREFIX}/{resource}") for resource in ROUTES}
UNKNOWN = RouteLabel(f"{PREFIX}/unknown")


class TooLarge(Exception):
    pass


class PublicApi:
    def __init__(self, app: ASGIApp, *, gate: Gate) -> None:
        self.app = app
        self.gate = gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not (path.startswith(PREFIX + "/") or path == PREFIX):
            if path.startswith("/auth/"):
                # logins and callbacks: limited per client address like anonymous API calls
                client = scope.get("client")
                wait = self.gate.limiter.take(f"ip:{client[0] if client else 'unknown'}")
                if wait:
                    RATE_LIMITED.labels("rate").inc()
                    await self._problem(scope, receive, send, 429, "Too Many Requests",
                                        "slow down: this address is over its request rate",
                                        {"Retry-After": RateLimiter.retry_after(wait)})
                    return
            await self.app(scope, receive, send)
            return
        rest = path[len(PREFIX):]
        target = owner(rest)
        scope["route"] = LABELS.get(resource_of(rest), UNKNOWN)
        if target is None or any(seg in (".", "..") for seg in rest.split("/")):
            # (dot segments could be resolved on the way and reach a path that is not public)
            await self._problem(scope, receive, send, 404, "Not Found",
                                f"no such resource: {path}")
            return
        # Forward the path as the client encoded it, not decoded: %2F, %20 and the like stay
        # what they were, and nothing decoded can break the request line.
        raw: bytes = scope.get("raw_path") or path.encode()
        raw = raw.split(b"?", 1)[0]
        if raw.startswith(PREFIX.encode() + b"/"):
            target = (target[0], raw[len(PREFIX):].decode("latin-1"))
        await self._forward(scope, receive, send, *target)

    async def _forward(self, scope: Scope, receive: Receive, send: Send, service: str,
                       upstream_path: str) -> None:
        gate, settings = self.gate, self.gate.settings
        forwarded: dict[str, str] = {}
        authorization = api_key = cookie_header = sent_csrf = None
        declared_length = 0
        for raw_name, raw_value in scope["headers"]:
            name = raw_name.decode("latin-1").lower()
            value = raw_value.decode("latin-1")
            if name == "authorization":
                authorization = value
            elif name == "x-api-key":
                api_key = value
            elif name == "cookie":
                cookie_header = value if cookie_header is None else f"{cookie_header}; {value}"
            elif name == "x-csrf-token":
                sent_csrf = value
            elif name == "content-length":
                declared_length = int(value) if value.isdigit() else 0
            if name in HOP_BY_HOP or name in STRIPPED_FROM_CLIENT:
                continue
            forwarded[name] = value if name not in forwarded else f"{forwarded[name]}, {value}"
        client = scope.get("client")
        address = client[0] if client else "unknown"
        cookies = cookie_parser(cookie_header) if cookie_header else {}
        session_cookie = cookies.get(gate.session_cookie)

        # Who is calling. Failed checks are limited per client address, so that guessing API
        # keys or tokens is slow and cannot flood the registry with verification calls.
        presents = bool(authorization or api_key or session_cookie)
        if presents and (wait := gate.auth_failures.wait(address)):
            RATE_LIMITED.labels("auth_failures").inc()
            await self._problem(scope, receive, send, 429, "Too Many Requests",
                                "too many failed credential checks from this address",
                                {"Retry-After": RateLimiter.retry_after(wait)})
            return
        try:
            principal, by_cookie = await gate.authenticate(authorization, api_key,
                                                           session_cookie)
        except InvalidCredentials as exc:
            gate.auth_failures.take(address)
            await self._problem(scope, receive, send, 401, "Unauthorized", str(exc),
                                {"WWW-Authenticate": "Bearer"})
            return
        except ConnectionError:
            await self._problem(scope, receive, send, 503, "Service Unavailable",
                                "credentials cannot be checked right now",
                                {"Retry-After": "1"})
            return
        method: str = scope["method"]
        if by_cookie and method in UNSAFE and not csrf.check(
                settings.session_secret, cookie=cookies.get(gate.csrf_cookie), sent=sent_csrf,
                session_cookie=session_cookie):
            await self._problem(scope, receive, send, 403, "Forbidden",
                                "a write with a session cookie needs the X-CSRF-Token header")
            return
        caller = principal.sub if principal is not None else f"ip:{address}"
        if wait := gate.limiter.take(caller):
            RATE_LIMITED.labels("rate").inc()
            await self._problem(scope, receive, send, 429, "Too Many Requests",
                                "slow down: this caller is over its request rate",
                                {"Retry-After": RateLimiter.retry_after(wait)})
            return
        limit = body_limit(method, upstream_path, settings.max_body_bytes)
        if declared_length > limit:
            await self._too_large(scope, receive, send, limit)
            return
        try:
            body = await _read_body(receive, limit)
        except TooLarge:
            await self._too_large(scope, receive, send, limit)
            return

        rid = structlog.contextvars.get_contextvars().get("request_id")
        if rid:
            forwarded["x-request-id"] = rid
        forwarded["x-forwarded-for"] = address
        if principal is not None:
            forwarded[PRINCIPAL_HEADER] = gate.tokens.token(principal)
        query = scope["query_string"].decode("latin-1") if scope.get("query_string") else ""
        assert gate.upstreams is not None
        try:
            status, headers, content = await gate.upstreams.send(
                service, method if method in METHODS else "OPTIONS", upstream_path, query,
                body if method in METHODS else b"", forwarded)
        except UpstreamTimeout:
            UPSTREAM_FAILURES.labels(service, "timeout").inc()
            await self._problem(scope, receive, send, 504, "Gateway Timeout",
                                f"the {service} service did not answer in time")
            return
        except UpstreamUnreachable:
            UPSTREAM_FAILURES.labels(service, "unreachable").inc()
            await self._problem(scope, receive, send, 502, "Bad Gateway",
                                f"the {service} service is not reachable")
            return
        if method not in METHODS and status == 204:
            # a method no service serves: 405, naming what this path does answer
            allow = next((v for k, v in headers if k.lower() == "allow"), "")
            await self._problem(scope, receive, send, 405, "Method Not Allowed",
                                f"{method} is not supported here", {"Allow": allow})
            return
        out = public_headers(response_headers(headers), service, gate.urls)
        if method != "HEAD" or not any(k == b"content-length" for k, _ in out):
            out = [(k, v) for k, v in out if k != b"content-length"]
            out.append((b"content-length", str(len(content)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": out})
        await send({"type": "http.response.body",
                    "body": content if method != "HEAD" else b""})

    async def _too_large(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        await self._problem(scope, receive, send, 413, "Content Too Large",
                            f"request bodies are limited to {limit} bytes here")

    async def _problem(self, scope: Scope, receive: Receive, send: Send, status: int,
                       title: str, detail: str, headers: dict[str, str] | None = None) -> None:
        response = problem_response(Request(scope), status=status, title=title, detail=detail,
                                    headers=headers)
        await response(scope, receive, send)


def public_location(value: str, service: str, urls: dict[str, str]) -> str | None:
    """A service's ``Location`` as the client may see it: a path of the service that the
    gateway routes to it becomes its public ``/api/v1/...`` path; anything else (another host,
    a path that is not public) is dropped, so that no internal address ever reaches a client."""
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        upstream = urlsplit(urls.get(service, ""))
        if (parts.scheme, parts.netloc) != (upstream.scheme, upstream.netloc):
            return None
    if not parts.path.startswith("/"):
        return None
    target = owner(parts.path)
    if target is None or target[0] != service:
        return None
    return PREFIX + parts.path + (f"?{parts.query}" if parts.query else "")


def public_headers(headers: list[tuple[bytes, bytes]], service: str, urls: dict[str, str]
                   ) -> list[tuple[bytes, bytes]]:
    out = []
    for name, value in headers:
        if name in (b"location", b"content-location"):
            public = public_location(value.decode("latin-1"), service, urls)
            if public is None:
                log.warning("internal_location_dropped", service=service)
                continue
            value = public.encode("latin-1")
        out.append((name, value))
    return out


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk: bytes = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                raise TooLarge
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)
