"""Regions, municipalities and the service-type catalogue as seeded, and the OpenAPI document
describing every answer."""

from __future__ import annotations

from typing import Any

from services.registry.domain.places import MUNICIPALITIES
from tests.integration.registry.conftest import Registry


async def test_regions_and_municipalities_are_seeded(registry: Registry) -> None:
    regions = (await registry.client.get("/regions")).json()
    sizes = {r["code"]: len(r["municipalities"]) for r in regions}
    assert sizes == {"etela-pohjanmaa": 18, "pirkanmaa": 23, "pohjois-pohjanmaa": 30}
    codes = [m["code"] for r in regions for m in r["municipalities"]]
    assert len(codes) == len(set(codes)) == len(MUNICIPALITIES)
    assert all(len(c) == 3 and c.isdigit() for c in codes)
    ep = (await registry.client.get("/regions/etela-pohjanmaa")).json()
    names = {m["code"]: m["name"] for m in ep["municipalities"]}
    assert names["099"] == {"fi": "Isojoki", "sv": "Storå", "en": "Isojoki"}
    assert names["743"]["fi"] == "Seinäjoki" and names["145"]["sv"] == "Ilmola"
    pp = (await registry.client.get("/regions/pohjois-pohjanmaa")).json()
    assert pp["name"] == {"fi": "Pohjois-Pohjanmaa", "sv": "Norra Österbotten",
                          "en": "North Ostrobothnia"}
    assert {"564": "Oulu"}.items() <= {m["code"]: m["name"]["fi"]
                                       for m in pp["municipalities"]}.items()
    r = await registry.client.get("/regions/uusimaa")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


async def test_default_payment_schemes(registry: Registry) -> None:
    types = {t["code"]: t for t in (await registry.client.get("/service-types")).json()}
    assert set(types) == {"job-search-coaching", "career-guidance", "competence-training",
                          "recruitment-help", "business-development", "internationalisation"}
    coaching = types["job-search-coaching"]
    assert coaching["name"] == {"fi": "Työnhakuvalmennus", "sv": "Jobbsökarträning",
                                "en": "Job-search coaching"}
    assert [(m["code"], m["share_bp"]) for m in coaching["payment_scheme"]] == [
        ("start", 3000), ("completion", 4000), ("outcome", 3000)]
    for t in types.values():
        assert sum(m["share_bp"] for m in t["payment_scheme"]) == 10_000
        assert all(t["name"][lang] for lang in ("fi", "sv", "en"))


async def test_openapi_documents_every_answer(registry: Registry) -> None:
    doc: dict[str, Any] = (await registry.client.get("/openapi.json")).json()
    assert "ProblemDetail" in doc["components"]["schemas"]
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    ops = [(method, path, op) for path, item in doc["paths"].items()
           for method, op in item.items()
           if not path.startswith(("/healthz", "/readyz", "/metrics", "/ops"))]
    assert len(ops) == 24  # with the region admins' dead letters (kit/dead_letters.py)
    for method, path, op in ops:
        where = f"{method.upper()} {path}"
        assert op.get("summary") and op.get("description"), where
        statuses = set(op["responses"])
        for status, response in op["responses"].items():
            if int(status) >= 400:
                assert set(response["content"]) == {"application/problem+json"}, where
        if op.get("requestBody") or op.get("parameters"):
            assert "422" in statuses, where
        if "{" in path:
            assert "404" in statuses, where
        if method in ("post", "put") and path not in ("/providers",):
            assert "401" in statuses, where
    # the writes that create something take an Idempotency-Key
    creating = [("post", "/providers"), ("post", "/offerings"), ("post", "/service-types"),
                ("post", "/offerings/imports"),
                ("post", "/providers/{provider_id}/accreditations"),
                ("post", "/providers/{provider_id}/accreditations/{region}/decisions"),
                ("post", "/providers/{provider_id}/api-keys")]
    for method, path in creating:
        params = {p["name"] for p in doc["paths"][path][method].get("parameters", [])}
        assert "Idempotency-Key" in params, path
    for path in ("/offerings/{offering_id}", "/providers/{provider_id}"):
        params = {p["name"] for p in doc["paths"][path]["put"]["parameters"]}
        assert "If-Match" in params, path
