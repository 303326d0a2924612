"""A minimal OpenID Connect provider for tests (authorization code flow, RS256 id tokens).
Whoever comes to /authorize is logged in as the user in ``FAKE_OIDC_CLAIMS`` (JSON)."""

from __future__ import annotations

import json
import os
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from authlib.jose import JsonWebKey, jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse

_private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_pem = _private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption())
_jwk = JsonWebKey.import_key(_pem, {"kty": "RSA", "kid": "test-key"})
_codes: dict[str, dict[str, Any]] = {}

app = FastAPI()


def issuer(request: Request) -> str:
    return str(request.base_url).rstrip("/")


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/readyz")
async def readyz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/.well-known/openid-configuration")
async def discovery(request: Request) -> dict[str, Any]:
    base = issuer(request)
    return {"issuer": base, "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token", "jwks_uri": f"{base}/jwks",
            "userinfo_endpoint": f"{base}/userinfo", "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"]}


@app.get("/jwks")
async def jwks() -> dict[str, Any]:
    public = _jwk.as_dict(is_private=False)
    public["kid"] = "test-key"
    return {"keys": [public]}


@app.get("/authorize")
async def authorize(request: Request, redirect_uri: str, state: str, client_id: str,
                    nonce: str = "") -> RedirectResponse:
    code = secrets.token_urlsafe(16)
    _codes[code] = {"nonce": nonce, "client_id": client_id, "issuer": issuer(request)}
    return RedirectResponse(f"{redirect_uri}?{urlencode({'code': code, 'state': state})}",
                            status_code=302)


@app.post("/token")
async def token(code: str = Form(...), client_id: str | None = Form(None)) -> JSONResponse:
    grant = _codes.pop(code, None)
    if grant is None:
        return JSONResponse({"error": "invalid_grant"}, status_code=400)
    claims = json.loads(os.environ.get("FAKE_OIDC_CLAIMS", "{}"))
    now = int(time.time())
    id_claims = {"iss": grant["issuer"], "aud": grant["client_id"], "iat": now,
                 "exp": now + 300, "nonce": grant["nonce"], "sub": "user-1", **claims}
    id_token = jwt.encode({"alg": "RS256", "kid": "test-key"}, id_claims, _jwk).decode()
    return JSONResponse({"access_token": secrets.token_urlsafe(16), "token_type": "Bearer",
                         "expires_in": 300, "id_token": id_token})


@app.get("/userinfo")
async def userinfo() -> dict[str, Any]:
    return {"sub": "user-1", **json.loads(os.environ.get("FAKE_OIDC_CLAIMS", "{}"))}
