"""deploy/ checked without a cluster: the kustomize overlays rendered (``kubectl kustomize``
or ``kustomize build``; without either, every file of the base is checked on its own) and
every object validated against the Kubernetes OpenAPI schemas (kubernetes-validate, strict:
an unknown field is an error); then what the schemas cannot say — readiness on /readyz,
resource requests, non-root, a PodDisruptionBudget for every Deployment, the migrations Job,
the 3-node NATS settings — and the compose file's healthchecks and start order. The images and
compose are not built or run here (no container runtime in the test environment)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes_validate import utils as k8s

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
KUBERNETES_VERSION = "1.31"
OVERLAYS = ["overlays/pilot", "overlays/production"]
SEPARATE_CRDS = {"Cluster"}  # CloudNativePG's: no schema in kubernetes-validate, checked below


def render(path: str) -> list[dict[str, Any]]:
    target = DEPLOY / "kubernetes" / path
    if shutil.which("kubectl"):
        cmd = ["kubectl", "kustomize", str(target)]
    elif shutil.which("kustomize"):
        cmd = ["kustomize", "build", str(target)]
    else:
        return files_of(target)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=True).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def files_of(target: Path) -> list[dict[str, Any]]:
    """Without a kustomize binary: the objects of every resource file, unrendered."""
    kustomization = yaml.safe_load((target / "kustomization.yaml").read_text())
    docs: list[dict[str, Any]] = []
    for resource in kustomization.get("resources", []):
        path = (target / resource).resolve()
        if path.is_dir():
            docs += files_of(path)
        else:
            docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


@pytest.fixture(scope="module", params=OVERLAYS)
def rendered(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    return render(request.param)


def test_every_object_is_valid_against_the_kubernetes_schemas(
    rendered: list[dict[str, Any]],
) -> None:
    for doc in rendered:
        if doc["kind"] in SEPARATE_CRDS:
            continue
        try:
            k8s.validate(doc, KUBERNETES_VERSION, strict=True)
        except k8s.ValidationError as exc:
            raise AssertionError(f"{doc['kind']}/{doc['metadata']['name']}: {exc}") from exc


def test_what_the_schemas_cannot_say(rendered: list[dict[str, Any]]) -> None:
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for doc in rendered:
        by_kind.setdefault(doc["kind"], []).append(doc)
    deployments = {d["metadata"]["name"]: d for d in by_kind["Deployment"]}
    assert set(deployments) == {"registry", "voucher", "matching", "gateway"}
    guarded = {tuple(sorted(p["spec"]["selector"]["matchLabels"].items()))
               for p in by_kind["PodDisruptionBudget"]}
    for name, d in deployments.items():
        assert d["spec"]["replicas"] >= 2, name
        pod = d["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        (container,) = pod["containers"]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
        assert {"cpu", "memory"} <= set(container["resources"]["requests"]), name
        assert container["securityContext"]["readOnlyRootFilesystem"] is True, name
        labels = tuple(sorted(d["spec"]["selector"]["matchLabels"].items()))
        assert labels in guarded, f"no PodDisruptionBudget for {name}"
    (job,) = by_kind["Job"]
    assert "services.migrate upgrade" in " ".join(
        job["spec"]["template"]["spec"]["containers"][0]["command"])
    env = next(c for c in by_kind["ConfigMap"] if c["metadata"]["name"].startswith("seteli-env"))
    assert len(env["data"]["NATS_URL"].split(",")) == 3
    assert {env["data"][f"{s}_STREAM_REPLICAS"] for s in ("REGISTRY", "VOUCHER", "MATCHING")} \
        == {"3"}
    namespaces = {d["metadata"].get("namespace") for d in rendered}
    if shutil.which("kubectl") or shutil.which("kustomize"):
        assert len(namespaces) == 1 and None not in namespaces  # the overlay's namespace


def test_production_overlay_runs_three_of_each_and_postgresql_by_cloudnativepg() -> None:
    docs = render("overlays/production")
    if not (shutil.which("kubectl") or shutil.which("kustomize")):
        pytest.skip("no kubectl or kustomize: overlays' replicas and patches not rendered")
    assert {d["metadata"]["name"]: d["spec"]["replicas"] for d in docs
            if d["kind"] == "Deployment"} == dict.fromkeys(
        ("registry", "voucher", "matching", "gateway"), 3)
    (pg,) = [d for d in docs if d["kind"] == "Cluster"]
    assert pg["apiVersion"] == "postgresql.cnpg.io/v1"
    assert pg["spec"]["instances"] == 3
    assert pg["spec"]["bootstrap"]["initdb"]["database"] == "seteli"
    # the Secret the operator makes for the cluster is the one the services read
    secret = f"{pg['metadata']['name']}-app"
    voucher = next(d for d in docs if d["kind"] == "Deployment"
                   and d["metadata"]["name"] == "voucher")
    refs = {e["valueFrom"]["secretKeyRef"]["name"] for e in
            voucher["spec"]["template"]["spec"]["containers"][0]["env"] if "valueFrom" in e}
    assert secret in refs


def test_nats_helm_values_make_a_three_node_jetstream_cluster() -> None:
    values = yaml.safe_load((DEPLOY / "nats" / "helm-values.yaml").read_text())
    assert values["config"]["cluster"] == {"enabled": True, "replicas": 3}
    assert values["config"]["jetstream"]["enabled"] is True
    assert values["config"]["jetstream"]["fileStore"]["pvc"]["enabled"] is True


def test_compose_starts_in_order_on_healthchecks() -> None:
    compose = yaml.safe_load((DEPLOY / "compose" / "compose.yaml").read_text())
    services = compose["services"]
    assert {"nats-1", "nats-2", "nats-3", "postgres", "migrate"} <= set(services)
    for name, svc in services.items():
        if name == "migrate":  # one-shot: runs to completion, the others wait for it
            assert svc["restart"] == "no"
            continue
        assert "test" in svc["healthcheck"], f"{name} has no healthcheck"
        for dep, cond in (svc.get("depends_on") or {}).items():
            wanted = ("service_completed_successfully" if dep == "migrate"
                      else "service_healthy")
            assert cond == {"condition": wanted}, f"{name} → {dep}"
    assert services["registry"]["depends_on"]["migrate"]["condition"] \
        == "service_completed_successfully"
    assert len(services["gateway"]["environment"]["GATEWAY_VOUCHER_URL"].split(",")) == 2
    assert len(services["registry"]["environment"]["NATS_URL"].split(",")) == 3


def test_the_image_runs_as_an_unprivileged_user_in_two_stages() -> None:
    lines = (DEPLOY / "Dockerfile").read_text().splitlines()
    stages = [x for x in lines if x.startswith("FROM ")]
    assert len(stages) == 2
    final = lines[lines.index(stages[-1]):]
    assert any(x.startswith("USER 10001") for x in final)
    assert not any("pip install" in x for x in final)  # no build tools in the runtime stage
