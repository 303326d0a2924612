"""Every OpenAPI document is valid (openapi-spec-validator), and a client generated from the
merged one (openapi-python-client) loses no response: each error answer is a typed
ProblemDetail, not dropped."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate

from tests.contract.conftest import SERVICES, ContractStack


def documents(stack: ContractStack) -> dict[str, dict[str, Any]]:
    urls = {"gateway": stack.gateway.url} | {n: stack.services[n].url for n in SERVICES}
    return {name: httpx.get(url + "/openapi.json", timeout=10).json()
            for name, url in urls.items()}


def test_every_document_is_valid_openapi(contract_stack: ContractStack) -> None:
    for name, doc in documents(contract_stack).items():
        validate(doc)  # raises on the first error
        schemas = doc["components"]["schemas"]
        titles = [s.get("title", n) for n, s in schemas.items()]
        assert len(titles) == len(set(titles)), (name, sorted(titles))
        text = json.dumps({k: v for k, v in doc.items() if k != "components"} | {
            "components": {k: v for k, v in doc["components"].items() if k != "schemas"}})
        text += json.dumps(schemas)
        unused = [n for n in schemas if text.count(f'"#/components/schemas/{n}"') == 0]
        assert unused == [], (name, unused)


def test_a_generated_client_keeps_every_response(contract_stack: ContractStack,
                                                 tmp_path: Path) -> None:
    binary = Path(sys.executable).with_name("openapi-python-client")
    if not binary.exists():
        pytest.skip("openapi-python-client is not installed (pip install -e '.[dev]')")
    merged = documents(contract_stack)["gateway"]
    (tmp_path / "openapi.json").write_text(json.dumps(merged))
    done = subprocess.run(
        [str(binary), "generate", "--path", "openapi.json", "--meta", "none",
         "--output-path", "client"],
        capture_output=True, text=True, timeout=180, cwd=tmp_path,
        env={"PATH": str(binary.parent), "HOME": str(tmp_path)})
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    # The only thing it may not model is the CSV request body of bulk issuance.
    warnings = [line for line in out.splitlines()
                if line.startswith(("WARNING", "Cannot", "Unsupported", "Could not"))]
    assert warnings in ([], ["WARNING parsing POST /api/v1/vouchers/bulk-issuance within "
                             "vouchers.", "Unsupported content type text/csv"]), out
    assert "response" not in out.lower(), out
    client = tmp_path / "client"
    assert (client / "models" / "problem_detail.py").exists()
    modules = list((client / "api").rglob("*.py"))
    typed = [m for m in modules if "ProblemDetail.from_dict" in m.read_text()]
    assert len(modules) > 40 and len(typed) == len([m for m in modules
                                                    if m.name != "__init__.py"]), (
        "operations whose errors are not typed: "
        + ", ".join(m.name for m in modules if m not in typed and m.name != "__init__.py"))
