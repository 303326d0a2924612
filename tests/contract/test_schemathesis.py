"""schemathesis (the version pinned in the dev extra) against the running stack: the gateway's
merged document anonymously (every operation) and with a session of each role (the operations
of that role's work), and each service's own document where it differs from the merged one
(its internal and operational paths, with a principal token). No answer may be a 5xx, and
every answer must be one the document describes: status code, content type, headers and body
schema. Bounded: two generated cases per operation."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from contracts.principal import Principal, Role, encode
from kit.settings import DEV_PRINCIPAL_SECRET
from tests.contract.conftest import ContractStack

CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
          "response_headers_conformance,response_schema_conformance")
EXAMPLES = 2  # per operation and run
ROLE_PATHS = {  # the operations each role works with (the anonymous run has every one)
    "anonymous": None,
    "citizen": r"^/api/v1/(vouchers|offerings|recommendations)",
    "provider": r"^/api/v1/(offerings|providers|claims)",
    "region_admin": r"^/api/v1/(budgets|payments|reports|audit-log|audit-chain|"
                    r"accreditation-expiry-runs|service-types|assignments|dead-letters)",
}


# The CLI, with anyio imported before its worker threads start: anyio parses its own source
# on import, and CPython 3.11 fails ("AST constructor recursion depth mismatch") when two
# threads do that at once.
LAUNCH = ("import sys, anyio, schemathesis.transport.asgi; from schemathesis.cli import "
          "schemathesis; sys.argv[0] = 'schemathesis'; sys.exit(schemathesis())")


def schemathesis() -> list[str]:
    if importlib.util.find_spec("schemathesis") is None:
        pytest.skip("schemathesis is not installed (pip install -e '.[dev]')")
    return [sys.executable, "-c", LAUNCH]


def run(base: str, tmp: Path, *, header: str | None, paths: str | None) -> None:
    command = [*schemathesis(), "run", base + "/openapi.json", "--url", base,
               "--checks", CHECKS, "--max-examples", str(EXAMPLES), "--workers", "2",
               "--phases", "fuzzing", "--no-shrink", "--no-color", "--seed", "20261129",
               "--generation-database", "none", "--request-timeout", "20",
               # how long generation takes says nothing about the API (a busy machine is slow)
               "--suppress-health-check", "too_slow"]
    if header:
        command += ["--header", header]
    if paths:
        command += ["--include-path-regex", paths]
    done = subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=tmp)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert " passed" in done.stdout, done.stdout[-3000:]  # something was tested


@pytest.mark.parametrize("role", sorted(ROLE_PATHS))
def test_the_merged_document_holds_for_every_role(contract_stack: ContractStack, role: str,
                                                   tmp_path: Path) -> None:
    token = contract_stack.tokens.get(role)
    run(contract_stack.gateway.url, tmp_path, paths=ROLE_PATHS[role],
        header=f"Authorization: Bearer {token}" if token else None)


def test_each_service_document_holds_beyond_the_merged_one(contract_stack: ContractStack,
                                                           tmp_path: Path) -> None:
    token = encode(Principal(sub="gateway", role=Role.service), DEV_PRINCIPAL_SECRET,
                   ttl_seconds=600)
    for service in sorted(contract_stack.services):
        (tmp_path / service).mkdir()
        run(contract_stack.services[service].url, tmp_path / service,
            header=f"X-Seteli-Principal: {token}", paths=r"^/(internal|ops|healthz|readyz)")
