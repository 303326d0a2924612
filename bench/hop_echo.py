"""The cheapest upstream there is, for ``bench/gateway_hop.py``: a bare ASGI app that reads the
request and answers a small JSON body (``uvicorn bench.hop_echo:app``). Behind it, the gateway's
own cost per request is most of what is measured."""

from __future__ import annotations

from starlette.types import Receive, Scope, Send

BODY = b'{"id":"0190f0a8-7c1e-7000-8000-000000000000","status":"applied"}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
