"""The registry's OpenAPI document, with every error answer described as what is actually
sent: ``application/problem+json`` with the ``ProblemDetail`` schema (FastAPI would document
its own 422 shape as ``application/json``)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from kit.errors import PROBLEM_JSON, ProblemDetail

PROBLEM_REF = {"$ref": "#/components/schemas/ProblemDetail"}
VALIDATION = "Unprocessable Content: each field at fault is named in `errors`"


def problem_responses(doc: dict[str, Any]) -> dict[str, Any]:
    for item in doc.get("paths", {}).values():
        for op in item.values():
            if not isinstance(op, dict):
                continue
            for status, response in op.get("responses", {}).items():
                if status.isdigit() and int(status) >= 400:
                    response["content"] = {PROBLEM_JSON: {"schema": PROBLEM_REF}}
                    if response.get("description") == "Validation Error":
                        response["description"] = VALIDATION
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    defs = ProblemDetail.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(defs.pop("$defs", {}))
    schemas["ProblemDetail"] = defs
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return doc


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = problem_responses(get_openapi(
                title=app.title, version=app.version, description=app.description,
                routes=app.routes))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
