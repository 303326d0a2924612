"""A service's OpenAPI document, with every error answer described as what is actually sent:
``application/problem+json`` with the ``ProblemDetail`` schema (FastAPI would document its own
422 shape as ``application/json``). An operation with a JSON body also documents 400 (the body
is not JSON) and 415 (the body is not declared JSON); schemas that nothing refers to are not
published."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from kit.errors import PROBLEM_JSON, ProblemDetail

PROBLEM_REF = {"$ref": "#/components/schemas/ProblemDetail"}
VALIDATION = "Unprocessable Content: each field at fault is named in `errors`"
BODY_PROBLEMS = {
    "400": "Bad Request: the body is not valid JSON",
    "415": "Unsupported Media Type: the body is not sent as application/json",
}
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def operations(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [op for item in doc.get("paths", {}).values() for method, op in item.items()
            if method in METHODS and isinstance(op, dict)]


def problem_responses(doc: dict[str, Any]) -> dict[str, Any]:
    for op in operations(doc):
        responses = op.setdefault("responses", {})
        body = op.get("requestBody", {}).get("content", {})
        if "application/json" in body:
            for status, description in BODY_PROBLEMS.items():
                responses.setdefault(status, {"description": description})
        for status, response in responses.items():
            if status.isdigit() and int(status) >= 400 and "$ref" not in response:
                response["content"] = {PROBLEM_JSON: {"schema": PROBLEM_REF}}
                if response.get("description") == "Validation Error":
                    response["description"] = VALIDATION
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    defs = ProblemDetail.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(defs.pop("$defs", {}))
    schemas["ProblemDetail"] = defs
    return without_unreferenced_schemas(doc)


def without_unreferenced_schemas(doc: dict[str, Any]) -> dict[str, Any]:
    """Drop the component schemas that no path (directly or through other schemas) uses."""
    components = doc.get("components", {})
    schemas: dict[str, Any] = components.get("schemas", {})
    rest = {k: v for k, v in doc.items() if k != "components"}
    rest["components"] = {k: v for k, v in components.items() if k != "schemas"}
    reached: set[str] = set()
    todo = [rest]
    while todo:
        text = json.dumps(todo.pop())
        for name in schemas:
            if name not in reached and f'"#/components/schemas/{name}"' in text:
                reached.add(name)
                todo.append(schemas[name])
    components["schemas"] = {k: v for k, v in schemas.items() if k in reached}
    return doc


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = problem_responses(get_openapi(
                title=app.title, version=app.version, description=app.description,
                routes=app.routes))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
