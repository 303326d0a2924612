"""The merged OpenAPI document and the AsyncAPI document, without any service running."""

from __future__ import annotations

import inspect
import json
from typing import Any

import httpx
import pytest

import contracts.registry
from contracts.events import EventPayload
from gateway import asyncapi
from gateway.openapi import MergedOpenApi, merge


def problem_op(op_id: str, *, params: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"operationId": op_id, "parameters": params or [],
            "responses": {"200": {"content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Item"}}}}}}


REGISTRY = {
    "paths": {
        "/providers/{provider_id}": {"get": problem_op("get_provider", params=[
            {"in": "path", "name": "provider_id", "required": True},
            {"in": "header", "name": "X-Seteli-Principal"}])},
        "/internal/credentials/verify": {"post": problem_op("verify")},
        "/readyz": {"get": problem_op("readyz")},
    },
    "components": {"schemas": {"Item": {"type": "object", "title": "Provider"},
                               "ProblemDetail": {"type": "object"}}},
}
VOUCHER = {
    "paths": {"/vouchers/{voucher_id}": {"get": problem_op("get_provider")},
              "/ops/dead-letters": {"get": problem_op("dead")}},
    "components": {"schemas": {"Item": {"type": "object", "title": "Voucher"},
                               "ProblemDetail": {"type": "object"}}},
}


def test_merge_keeps_public_paths_under_api_v1() -> None:
    doc = merge({"openapi": "3.1.0", "info": {"title": "Seteli", "version": "1"}},
                {"registry": REGISTRY, "voucher": VOUCHER})
    assert set(doc["paths"]) == {"/api/v1/providers/{provider_id}",
                                 "/api/v1/vouchers/{voucher_id}"}
    provider = doc["paths"]["/api/v1/providers/{provider_id}"]["get"]
    voucher = doc["paths"]["/api/v1/vouchers/{voucher_id}"]["get"]
    # a schema name two services use differently is kept apart
    assert provider["responses"]["200"]["content"]["application/json"]["schema"]["$ref"] == (
        "#/components/schemas/Item")
    assert voucher["responses"]["200"]["content"]["application/json"]["schema"]["$ref"] == (
        "#/components/schemas/voucher_Item")
    # titles are the (unique) names: generated clients name their types by title
    assert doc["components"]["schemas"]["voucher_Item"]["title"] == "voucher_Item"
    assert doc["components"]["schemas"]["Item"]["title"] == "Item"
    # operation ids stay unique, the principal header is not the client's to send
    assert provider["operationId"] != voucher["operationId"]
    assert [p["name"] for p in provider["parameters"]] == ["provider_id"]
    # the gateway's own answers are documented on every operation
    for op in (provider, voucher):
        assert {"401", "413", "429", "502", "503", "504"} <= set(op["responses"])
    assert set(doc["components"]["securitySchemes"]) == {"sessionToken", "apiKey",
                                                         "sessionCookie"}
    assert doc["tags"] == [{"name": "registry"}, {"name": "voucher"}]
    assert REGISTRY["paths"]["/providers/{provider_id}"]["get"]["parameters"][1]["name"] == (
        "X-Seteli-Principal")  # the services' own documents are not changed


async def test_merged_document_is_cached_and_survives_a_service_going_away() -> None:
    answers: dict[str, Any] = {"registry": REGISTRY, "voucher": VOUCHER}
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        name = request.url.host
        calls.append(name)
        if answers.get(name) is None:
            return httpx.Response(503)
        return httpx.Response(200, json=answers[name])

    merged = MergedOpenApi({"registry": "http://registry", "voucher": "http://voucher"},
                           ttl=60, retry=0)
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        base: dict[str, Any] = {"openapi": "3.1.0", "info": {}}
        first = await merged.document(base, client)
        await merged.document(base, client)
        assert len(calls) == 2  # cached
        merged._merged = None
        answers["voucher"] = None  # the voucher service is down: its last document stays
        again = await merged.document(base, client)
        assert set(again["paths"]) == set(first["paths"])
        await merged.document(base, client)
        assert len(calls) == 6  # incomplete merges are retried (here: at once, retry=0)


def concrete_events() -> list[type[EventPayload]]:
    found = []
    for _, cls in inspect.getmembers(contracts.registry, inspect.isclass):
        if issubclass(cls, EventPayload) and "name" in cls.__dict__ and cls.name != "event":
            found.append(cls)
    return found


def test_asyncapi_lists_every_event_with_subject_type_and_schema() -> None:
    doc = asyncapi.document()
    assert doc["asyncapi"].startswith("3.")
    events = concrete_events()
    assert len(events) >= 10
    by_address = {c["address"]: key for key, c in doc["channels"].items()}
    for cls in events:
        key = by_address[cls.subject()]
        message = doc["components"]["messages"][key]
        assert message["name"] == cls.event_type()
        payload = message["payload"]["allOf"][1]["properties"]
        assert payload["type"]["const"] == cls.event_type()
        schema = doc["components"]["schemas"][payload["data"]["$ref"].rsplit("/", 1)[1]]
        assert set(cls.model_fields) <= set(schema["properties"])
        assert f"publish{key}" in doc["operations"]


def test_asyncapi_references_all_resolve() -> None:
    doc = asyncapi.document()

    def refs(node: Any) -> list[str]:
        if isinstance(node, dict):
            return [v for k, v in node.items() if k == "$ref"] + [
                r for v in node.values() for r in refs(v)]
        if isinstance(node, list):
            return [r for v in node for r in refs(v)]
        return []

    for ref in refs(doc):
        assert ref.startswith("#/"), ref
        node: Any = doc
        for part in ref[2:].split("/"):
            node = node[part]
        assert node, ref
    json.dumps(doc)  # serialisable as it is


@pytest.mark.parametrize("cls", concrete_events(), ids=lambda c: c.__name__)
def test_every_event_subject_follows_the_convention(cls: type[EventPayload]) -> None:
    assert cls.subject().startswith(f"seteli.{cls.service}.v{cls.major}.")
