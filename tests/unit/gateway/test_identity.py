"""Person keys, session tokens, principal tokens, CSRF tokens and the rate limiter."""

from __future__ import annotations

import time

import jwt
import pytest

from contracts.principal import Principal, Role, decode
from gateway import csrf
from gateway.identity import (
    DEMO_USERS,
    InvalidCredentials,
    PrincipalTokens,
    SessionReader,
    demo_principal,
    issue_session,
    person_key,
)
from gateway.ratelimit import RateLimiter

SECRET = "k" * 40


def test_person_key_is_a_keyed_hash_of_a_valid_code() -> None:
    key = person_key(SECRET, "010280-952L", allow_temporary=True)
    assert len(key) == 64 and "010280" not in key
    # the same person however the code is written; another secret, another key
    assert person_key(SECRET, " 010280-952l ", allow_temporary=True) == key
    assert person_key("other" * 8, "010280-952L", allow_temporary=True) != key
    assert person_key(SECRET, "081181-9984", allow_temporary=True) != key
    # the 2023 century signs (Y, X… beside "-"; B, C… beside "A") widen the number space: a
    # code with a new sign is another person, so the sign is part of what is hashed
    assert person_key(SECRET, "010594Y9032", allow_temporary=True) != person_key(
        SECRET, "010594-9032", allow_temporary=True)


def test_test_persons_pass_only_with_allow_temporary() -> None:
    # individual numbers 900–999 are test persons (the public test person 010280-952L)
    with pytest.raises(InvalidCredentials):
        person_key(SECRET, "010280-952L", allow_temporary=False)
    for bad in ("010280-952X", "320180-952L", "", "not a code", "010280Z952L"):
        with pytest.raises(InvalidCredentials):
            person_key(SECRET, bad, allow_temporary=True)


def test_demo_users_cover_citizens_and_every_region() -> None:
    regions = {u.region for u in DEMO_USERS if u.role is Role.region_admin}
    assert regions == {"pirkanmaa", "pohjois-pohjanmaa", "etela-pohjanmaa"}
    for user in DEMO_USERS:
        p = demo_principal(user, person_key_secret=SECRET, allow_temporary=True)
        assert p.role is user.role
        dumped = p.model_dump_json()
        if user.hetu:
            assert user.hetu[:6] not in dumped and p.person_key


def test_session_tokens_are_checked_and_remembered() -> None:
    reader = SessionReader("s" * 40)
    p = Principal(sub="admin-pirkanmaa", role=Role.region_admin, region="pirkanmaa")
    token = issue_session(p, "s" * 40, 60)
    assert reader.read(token) == p
    assert reader.read(token) == p  # from memory
    with pytest.raises(InvalidCredentials):
        reader.read(issue_session(p, "x" * 40, 60))  # another secret
    with pytest.raises(InvalidCredentials):
        reader.read(issue_session(p, "s" * 40, -10))  # expired
    forged = jwt.encode({"sub": "x", "role": "region_admin", "exp": int(time.time()) + 60},
                        "s" * 40, algorithm="HS256")
    with pytest.raises(InvalidCredentials):
        reader.read(forged)  # right secret, but not a session token (no audience, issuer)
    principal_token = PrincipalTokens("s" * 40).token(p)
    with pytest.raises(InvalidCredentials):
        reader.read(principal_token)  # a principal token is not a session


def test_remembered_sessions_still_expire() -> None:
    reader = SessionReader("s" * 40)
    p = Principal(sub="c", role=Role.citizen, person_key="a" * 64)
    token = issue_session(p, "s" * 40, 1)
    reader.read(token)
    time.sleep(2.1)
    with pytest.raises(InvalidCredentials):
        reader.read(token)


def test_revoked_sessions_are_refused() -> None:
    reader = SessionReader("s" * 40)
    p = Principal(sub="admin-pirkanmaa", role=Role.region_admin, region="pirkanmaa")
    token, other = issue_session(p, "s" * 40, 60), issue_session(p, "s" * 40, 61)
    reader.read(token)
    reader.revoke(token)
    with pytest.raises(InvalidCredentials, match="ended"):
        reader.read(token)
    assert reader.read(other) == p  # another session of the same person goes on
    reader.revoke("not-a-token")  # nothing to revoke, no error


def test_session_memory_is_bounded() -> None:
    reader = SessionReader("s" * 40, max_entries=3)
    for i in range(10):
        reader.read(issue_session(Principal(sub=f"u{i}", role=Role.citizen), "s" * 40, 60))
    assert len(reader._seen) == 3


def test_principal_tokens_are_short_lived_and_reused_for_half_their_life(
        monkeypatch: pytest.MonkeyPatch) -> None:
    tokens = PrincipalTokens("p" * 40, ttl=60)
    p = Principal(sub="staff-1", role=Role.provider, provider_id="1")
    first = tokens.token(p)
    assert tokens.token(p) == first
    assert decode(first, "p" * 40) == p
    claims = jwt.decode(first, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 60
    other = tokens.token(Principal(sub="staff-2", role=Role.provider, provider_id="2"))
    assert other != first
    later = time.time() + 31
    monkeypatch.setattr(time, "time", lambda: later)
    assert tokens.token(p) != first


def test_csrf_tokens_are_bound_to_the_session() -> None:
    anonymous = csrf.issue(SECRET, None)
    assert csrf.check(SECRET, cookie=anonymous, sent=anonymous, session_cookie=None)
    assert not csrf.check(SECRET, cookie=anonymous, sent=anonymous, session_cookie="sess-1")
    bound = csrf.issue(SECRET, "sess-1")
    assert csrf.check(SECRET, cookie=bound, sent=bound, session_cookie="sess-1")
    assert not csrf.check(SECRET, cookie=bound, sent=bound, session_cookie="sess-2")
    assert not csrf.check(SECRET, cookie=bound, sent=anonymous, session_cookie="sess-1")
    assert not csrf.check(SECRET, cookie=None, sent=bound, session_cookie="sess-1")
    assert not csrf.check("other" * 8, cookie=bound, sent=bound, session_cookie="sess-1")
    planted = "nonce.0123456789abcdef0123456789abcdef"
    assert not csrf.check(SECRET, cookie=planted, sent=planted, session_cookie=None)
    assert not csrf.valid_for(SECRET, "no-dot", None)


def test_token_bucket() -> None:
    limiter = RateLimiter(rate=2.0, burst=3)
    now = 100.0
    assert [limiter.take("a", now) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.take("a", now)
    assert wait == pytest.approx(0.5)
    assert limiter.take("b", now) == 0.0  # another caller has its own bucket
    assert limiter.wait("a", now + 0.25) == pytest.approx(0.25)
    assert limiter.take("a", now + 0.5) == 0.0  # refilled at 2/s
    assert limiter.wait("a", now + 0.5) > 0  # wait() does not count
    assert limiter.take("a", now + 100) == 0.0 and limiter._tokens("a", now + 100) == 2.0
    assert RateLimiter.retry_after(0.01) == "1" and RateLimiter.retry_after(2.2) == "3"


def test_token_bucket_forgets_the_oldest_callers() -> None:
    limiter = RateLimiter(rate=1.0, burst=1, max_callers=2)
    for caller in ("a", "b", "c"):
        limiter.take(caller, 0.0)
    assert "a" not in limiter._buckets and len(limiter._buckets) == 2
    with pytest.raises(ValueError):
        RateLimiter(rate=0, burst=1)
