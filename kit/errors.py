"""RFC 9457 problem details: one error hierarchy for every service and the gateway.

Raise a :class:`Problem` subclass anywhere below a router; the handlers installed by
:func:`install_problem_handlers` turn it, FastAPI's validation errors and any unexpected
exception into ``application/problem+json`` responses.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from kit.middleware import loggable_path

PROBLEM_JSON = "application/problem+json"
log = structlog.get_logger("kit.errors")


class FieldError(BaseModel):
    field: str
    message: str


class ProblemDetail(BaseModel):
    """The body of every error response (RFC 9457)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] | None = None
    request_id: str | None = None


class Problem(Exception):
    status: int = 500
    title: str = "Internal Server Error"
    type: str = "about:blank"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[FieldError] | None = None,
        title: str | None = None,
        type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.errors = errors
        self.headers = headers
        if title:
            self.title = title
        if type:
            self.type = type


class BadRequest(Problem):
    status, title = 400, "Bad Request"


class Unauthorized(Problem):
    status, title = 401, "Unauthorized"


class Forbidden(Problem):
    status, title = 403, "Forbidden"


class NotFound(Problem):
    status, title = 404, "Not Found"


class Conflict(Problem):
    status, title = 409, "Conflict"


class Unprocessable(Problem):
    status, title, type = 422, "Unprocessable Content", "/problems/validation-error"

    @classmethod
    def field(cls, field: str, message: str) -> Unprocessable:
        return cls(
            f"{field}: {message}", errors=[FieldError(field=field, message=message)]
        )


class UnsupportedMediaType(Problem):
    status, title = 415, "Unsupported Media Type"


class TooManyRequests(Problem):
    status, title = 429, "Too Many Requests"


class ServiceUnavailable(Problem):
    status, title = 503, "Service Unavailable"


def problem_response(
    request: Request | None,
    *,
    status: int,
    title: str,
    detail: str | None = None,
    type: str = "about:blank",
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = ProblemDetail(
        type=type,
        title=title,
        status=status,
        detail=detail,
        instance=request.url.path if request is not None else None,
        errors=errors,
        request_id=structlog.contextvars.get_contextvars().get("request_id"),
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        where, parts = parts[0], parts[1:]
        if not parts:
            return where
    return ".".join(parts)


def validation_errors(exc: RequestValidationError) -> list[FieldError]:
    out = []
    for err in exc.errors():
        msg = str(err.get("msg", "invalid"))
        msg = msg.removeprefix("Value error, ")
        out.append(FieldError(field=_field_path(tuple(err.get("loc", ()))), message=msg))
    return out


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(
            request,
            status=exc.status,
            title=exc.title,
            detail=exc.detail,
            type=exc.type,
            errors=exc.errors,
            headers=exc.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        if any(e.get("type") == "json_invalid" for e in exc.errors()):
            return problem_response(
                request, status=400, title="Bad Request", type="/problems/unparseable-body",
                detail="the body is not valid JSON",
                errors=[FieldError(field="body", message="is not valid JSON")])
        if not _json_sent(request) and any(
                tuple(e.get("loc", ())) == ("body",) for e in exc.errors()):
            # a JSON body was expected as a whole and something else was declared (a form's
            # own fields are named below "body" and stay 422s)
            return problem_response(
                request, status=415, title="Unsupported Media Type",
                detail="send the body as application/json",
                errors=[FieldError(field="content-type", message="must be application/json")])
        errors = validation_errors(exc)
        return problem_response(
            request,
            status=422,
            title="Unprocessable Content",
            type="/problems/validation-error",
            detail="; ".join(f"{e.field}: {e.message}" for e in errors),
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem_response(
            request,
            status=exc.status_code,
            title=_reason(exc.status_code),
            detail=exc.detail if isinstance(exc.detail, str) else None,
            headers=dict(exc.headers) if exc.headers else None,
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        # A uniqueness or check constraint caught a race the use case did not foresee: the
        # transaction was rolled back, nothing was written.
        log.warning("integrity_conflict", path=request.url.path[:512], error=str(exc.orig)[:300])
        return problem_response(
            request, status=409, title="Conflict", type="/problems/conflict",
            detail="the request conflicts with the current state of the resource",
        )

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        if not transient(exc):
            return await _unexpected(request, exc)
        # Two transactions waited for each other (PostgreSQL broke the deadlock by rolling this
        # one back), or the database stayed busy past its timeout: nothing was written, and the
        # same request can simply be sent again.
        log.warning("database_busy", path=loggable_path(request.url.path),
                    error=str(exc.orig)[:300])
        return problem_response(
            request, status=503, title="Service Unavailable", type="/problems/busy",
            detail="the database was busy and nothing was written; send the request again",
            headers={"Retry-After": "1"},
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled_error", path=loggable_path(request.url.path))
        return problem_response(
            request, status=500, title="Internal Server Error",
            detail="An unexpected error occurred; it has been logged with the request id.",
        )


# PostgreSQL: serialization failure, deadlock detected, lock not available, query cancelled
# (a statement or lock timeout)
TRANSIENT_SQLSTATES = frozenset({"40001", "40P01", "55P03", "57014"})


def transient(exc: DBAPIError) -> bool:
    """The error says the database was busy, not that the request or the code is wrong."""
    orig = exc.orig
    for candidate in (orig, getattr(orig, "__cause__", None)):
        code = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if code in TRANSIENT_SQLSTATES:
            return True
    text = str(orig).lower()
    return "database is locked" in text or "database is busy" in text


def _json_sent(request: Request) -> bool:
    """The request's body is declared JSON (or not declared at all: then it is read as JSON)."""
    kind = request.headers.get("content-type")
    if not kind:
        return True
    media = kind.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/")
                                           and media.endswith("+json"))


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


# Responses to list in OpenAPI for an endpoint, e.g. ``responses=problems(404, 409)``.
def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        s: {
            "model": ProblemDetail,
            "description": _reason(s),
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemDetail"}}},
        }
        for s in statuses
    }
