"""CSRF tokens for the browser: a signed double-submit cookie bound to the session.

A token is ``nonce.mac`` where ``mac`` = HMAC-SHA256(secret, nonce | binding) and ``binding`` is
a digest of the session cookie (empty before login). A form or an ``X-CSRF-Token`` header must
carry the same token as the ``csrf`` cookie, and the token must be signed for the session the
request carries: a token planted by another site, or kept from before a login, does not pass.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


def binding(session_cookie: str | None) -> str:
    if not session_cookie:
        return ""
    return hashlib.sha256(session_cookie.encode()).hexdigest()[:32]


def _mac(secret: str, nonce: str, bound_to: str) -> str:
    return hmac.new(secret.encode(), f"csrf|{nonce}|{bound_to}".encode(),
                    hashlib.sha256).hexdigest()[:32]


def issue(secret: str, session_cookie: str | None) -> str:
    nonce = secrets.token_urlsafe(18)
    return f"{nonce}.{_mac(secret, nonce, binding(session_cookie))}"


def valid_for(secret: str, token: str | None, session_cookie: str | None) -> bool:
    """Whether ``token`` was issued for this session (or for no session)."""
    if not token or "." not in token:
        return False
    nonce, mac = token.rsplit(".", 1)
    return hmac.compare_digest(mac, _mac(secret, nonce, binding(session_cookie)))


def check(secret: str, *, cookie: str | None, sent: str | None,
          session_cookie: str | None) -> bool:
    """The double submit: ``sent`` equals the cookie, and is signed for this session."""
    if not cookie or not sent or not hmac.compare_digest(cookie, sent):
        return False
    return valid_for(secret, sent, session_cookie)
