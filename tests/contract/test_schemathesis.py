"""schemathesis (the version pinned in the dev extra) against the running stack: the gateway's
merged document anonymously and with a session of each role, and each service's own document
with a principal token. No answer may be a 5xx, and every answer must be one the document
describes: status code, content type, headers and body schema. Bounded: a few generated
cases per operation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from contracts.principal import Principal, Role, encode
from kit.settings import DEV_PRINCIPAL_SECRET
from tests.contract.conftest import ContractStack

CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
          "response_headers_conformance,response_schema_conformance")
EXAMPLES = 2  # per operation and run: 10-30 s a run on two shared cores


def schemathesis() -> str:
    binary = Path(sys.executable).with_name("schemathesis")
    if not binary.exists():
        pytest.skip("schemathesis is not installed (pip install -e '.[dev]')")
    return str(binary)


def run(base: str, header: str | None, tmp: Path) -> None:
    command = [schemathesis(), "run", base + "/openapi.json", "--url", base,
               "--checks", CHECKS, "--max-examples", str(EXAMPLES), "--workers", "2",
               "--phases", "fuzzing", "--no-shrink", "--no-color", "--seed", "20261129",
               "--generation-database", "none", "--request-timeout", "20"]
    if header:
        command += ["--header", header]
    done = subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=tmp)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]


@pytest.mark.parametrize("role", ["anonymous", "citizen", "provider", "region_admin"])
def test_the_merged_document_holds_for_every_role(contract_stack: ContractStack, role: str,
                                                   tmp_path: Path) -> None:
    token = contract_stack.tokens.get(role)
    run(contract_stack.gateway.url, f"Authorization: Bearer {token}" if token else None,
        tmp_path)


PRINCIPALS = {
    "registry": Principal(sub="contract-staff", role=Role.provider, provider_id="no-such-id"),
    "voucher": Principal(sub="contract-admin", role=Role.region_admin, region="pirkanmaa"),
    "matching": Principal(sub="contract-citizen", role=Role.citizen, person_key="0" * 64),
}


@pytest.mark.parametrize("service", sorted(PRINCIPALS))
def test_each_service_document_holds(contract_stack: ContractStack, service: str,
                                     tmp_path: Path) -> None:
    token = encode(PRINCIPALS[service], DEV_PRINCIPAL_SECRET, ttl_seconds=600)
    run(contract_stack.services[service].url, f"X-Seteli-Principal: {token}", tmp_path)
