"""kit's HTTP conventions without I/O: problem+json for every kind of error, request ids."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from pydantic import BaseModel, Field
from sqlalchemy.exc import OperationalError

from kit.errors import Conflict, Unprocessable, install_problem_handlers
from kit.middleware import RequestContextMiddleware


class Body(BaseModel):
    name: str = Field(min_length=2)
    count: int = Field(ge=0)


class PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"sqlstate {sqlstate}")
        self.sqlstate = sqlstate


DRIVER_ERRORS = {
    "locked": Exception("database is locked"),
    "deadlock": PgError("40P01"),
    "serialization": PgError("40001"),
    "syntax": PgError("42601"),
    "disk": Exception("disk I/O error"),
}


def make_app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.add_middleware(RequestContextMiddleware, service="test")

    @app.post("/things")
    async def create(body: Body) -> dict[str, str]:
        if body.name == "taken":
            raise Conflict("name is taken")
        if body.name == "odd":
            raise Unprocessable.field("name", "must not be odd")
        return {"name": body.name}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    @app.get("/db/{what}")
    async def database(what: str) -> None:
        raise OperationalError("UPDATE x", {}, DRIVER_ERRORS[what])

    return app


def client() -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=make_app(), raise_app_exceptions=False),
        base_url="http://t",
    )


async def test_validation_error_names_each_field() -> None:
    async with client() as c:
        r = await c.post("/things", json={"name": "x", "count": -1})
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["status"] == 422
    assert {e["field"] for e in body["errors"]} == {"name", "count"}
    assert body["request_id"] == r.headers["x-request-id"]


async def test_domain_problems_keep_status_and_detail() -> None:
    async with client() as c:
        conflict = await c.post("/things", json={"name": "taken", "count": 1})
        odd = await c.post("/things", json={"name": "odd", "count": 1})
    assert conflict.status_code == 409
    assert conflict.json()["detail"] == "name is taken"
    assert odd.status_code == 422
    assert odd.json()["errors"] == [{"field": "name", "message": "must not be odd"}]


async def test_unknown_route_and_method_are_problems() -> None:
    async with client() as c:
        missing = await c.get("/nothing-here")
        wrong = await c.delete("/things")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert wrong.status_code == 405


async def test_unexpected_error_is_a_500_problem_without_internals() -> None:
    async with client() as c:
        r = await c.get("/boom")
    assert r.status_code == 500
    assert r.headers["content-type"] == "application/problem+json"
    assert "secret internals" not in r.text
    assert r.json()["request_id"] == r.headers["x-request-id"]


async def test_request_id_is_kept_when_valid_and_replaced_when_not() -> None:
    async with client() as c:
        kept = await c.post("/things", json={"name": "ok", "count": 0},
                            headers={"X-Request-ID": "abc-12345"})
        replaced = await c.post("/things", json={"name": "ok", "count": 0},
                                headers={"X-Request-ID": "bad id\twith junk"})
    assert kept.headers["x-request-id"] == "abc-12345"
    assert replaced.headers["x-request-id"] != "bad id\twith junk"
    assert len(replaced.headers["x-request-id"]) == 32


async def test_request_ids_that_are_short_long_or_hold_a_henkilotunnus_are_replaced() -> None:
    refused = ["abc-123", "x" * 65, "010280-952L", "trace.010280A952L.x", "id:with:colons",
               "131052-308T-request"]
    async with client() as c:
        for rid in refused:
            r = await c.post("/things", json={"name": "ok", "count": 0},
                             headers={"X-Request-ID": rid})
            assert r.headers["x-request-id"] != rid
            assert len(r.headers["x-request-id"]) == 32
        for rid in ("abcd1234", "a.b_c-d" * 9 + "x"):
            r = await c.post("/things", json={"name": "ok", "count": 0},
                             headers={"X-Request-ID": rid})
            assert r.headers["x-request-id"] == rid


def test_henkilotunnus_shaped_path_segments_are_masked_in_logs() -> None:
    from kit.middleware import loggable_path

    assert loggable_path("/persons/010280-952L/vouchers") == "/persons/<masked>/vouchers"
    assert loggable_path("/x/010594Y9032") == "/x/<masked>"
    assert loggable_path("/offerings/0190a1b2-c3d4") == "/offerings/0190a1b2-c3d4"
    assert len(loggable_path("/a" * 10_000)) <= 512


def test_a_generated_request_id_is_never_refused_downstream() -> None:
    from kit.middleware import HETU_SHAPED, new_request_id

    assert not any(HETU_SHAPED.search(new_request_id()) for _ in range(5_000))


async def test_a_body_that_is_not_json_is_400_and_one_sent_as_another_type_is_415() -> None:
    async with client() as c:
        broken = await c.post("/things", content=b'{"name": "x", ',
                              headers={"content-type": "application/json"})
        form = await c.post("/things", content=b"name=ok&count=1",
                            headers={"content-type": "application/x-www-form-urlencoded"})
        fine = await c.post("/things", content=b'{"name": "ok", "count": 1}',
                            headers={"content-type": "application/merge-patch+json"})
    assert broken.status_code == 400 and broken.json()["errors"][0]["field"] == "body"
    assert form.status_code == 415
    assert form.headers["content-type"] == "application/problem+json"
    assert fine.status_code == 200


async def test_form_fields_stay_422_naming_the_field() -> None:
    from typing import Annotated

    from fastapi import Form

    app = make_app()

    @app.post("/form")
    async def form(name: Annotated[str, Form()]) -> dict[str, str]:
        return {"name": name}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://t") as c:
        r = await c.post("/form", data={"other": "x"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "name"


async def test_a_busy_database_is_a_503_to_retry_and_other_database_errors_a_500() -> None:
    async with client() as c:
        answers = {what: await c.get(f"/db/{what}") for what in DRIVER_ERRORS}
    for what in ("locked", "deadlock", "serialization"):
        r = answers[what]
        assert r.status_code == 503, what
        assert r.headers["retry-after"] == "1"
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["type"] == "/problems/busy"
    for what in ("syntax", "disk"):
        r = answers[what]
        assert r.status_code == 500, what
        assert "sqlstate" not in r.text and "I/O error" not in r.text
