"""The principal token: who is calling, forwarded by the gateway to the services.

A short-lived HS256 JWT signed with a secret shared by the gateway and the services. It never
carries a henkilötunnus: persons are identified by ``person_key`` (a keyed hash).
"""

from __future__ import annotations

import time
from enum import StrEnum

import jwt
from pydantic import BaseModel

ISSUER = "seteli-gateway"
AUDIENCE = "seteli-services"
HEADER = "X-Seteli-Principal"


class Role(StrEnum):
    citizen = "citizen"
    provider = "provider"
    region_admin = "region_admin"
    service = "service"


class Auth(StrEnum):
    """How the caller proved who it is at the gateway: a person's session (OpenID Connect or
    the dev login), or a provider system's API key (which cannot manage API keys)."""

    session = "session"
    api_key = "api_key"


class Principal(BaseModel):
    sub: str
    role: Role
    region: str | None = None
    provider_id: str | None = None
    person_key: str | None = None
    auth: Auth = Auth.session


class InvalidPrincipal(Exception):
    pass


def encode(principal: Principal, secret: str, ttl_seconds: int = 60) -> str:
    now = int(time.time())
    claims = principal.model_dump(exclude_none=True) | {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def decode(token: str, secret: str) -> Principal:
    try:
        claims = jwt.decode(
            token, secret, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER, leeway=5
        )
    except jwt.PyJWTError as exc:
        raise InvalidPrincipal(str(exc)) from exc
    return Principal.model_validate(claims)
