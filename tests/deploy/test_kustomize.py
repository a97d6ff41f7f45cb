"""Every Kustomize tree under deploy/k8s renders offline, passes the Kubernetes JSON schemas, and
says what we mean: namespaces, probes, secrets, storage, images, Spark's settings."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import kubernetes_validate
import pandas as pd
import pytest
import yaml
from deploy_helpers import DEPLOY, K8S, only, render

from collab.lake._config import load_config

# The oldest Kubernetes minor we claim to support, and the newest the package ships schemas for.
KUBERNETES_VERSIONS = ("1.29", "1.37")
OVERLAYS = {"dev": "collab-dev", "production": "collab"}
PRODUCTION_MASTER = "k8s://https://kubernetes.default.svc"
HEALTH_PATH = "/api/v2/metadata"
SECRET_NAME = "collab-lake-secrets"
SECRET_ENV = ("COLLAB_ADMIN_PASSWORD", "COLLAB_SCIENTIST_PASSWORDS", "COLLAB_DATABASE_URL")
SECRET_WORDS = ("password", "secret", "token")
LAKE_LABELS = {"app.kubernetes.io/name": "collab-lake", "app.kubernetes.io/component": "lake"}
EXECUTOR_LABELS = {
    "app.kubernetes.io/name": "collab-lake",
    "app.kubernetes.io/component": "spark-executor",
}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume"}
ENTRYPOINT = "/opt/collab/bin/spark-entrypoint"


def overlay(name: str) -> list[dict[str, Any]]:
    return render(K8S / "overlays" / name)


def deployment(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return only(resources, "Deployment", "collab-lake")


def pod_spec(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return deployment(resources)["spec"]["template"]["spec"]


def lake_container(resources: list[dict[str, Any]]) -> dict[str, Any]:
    containers = pod_spec(resources)["containers"]
    assert [c["name"] for c in containers] == ["lake"]
    return containers[0]


def config_map(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return only(resources, "ConfigMap", "collab-lake-config")


def lake_toml(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return tomllib.loads(config_map(resources)["data"]["lake.toml"])


def volume(resources: list[dict[str, Any]], name: str) -> dict[str, Any]:
    found = [v for v in pod_spec(resources)["volumes"] if v["name"] == name]
    assert len(found) == 1, f"no volume {name!r}"
    return found[0]


def mount_of(container: dict[str, Any], volume_name: str) -> dict[str, Any]:
    found = [m for m in container.get("volumeMounts", []) if m["name"] == volume_name]
    assert len(found) == 1, f"volume {volume_name!r} is not mounted once in {container['name']}"
    return found[0]


def env(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container.get("env", [])}


def validate(resource: dict[str, Any], version: str) -> None:
    """Strict JSON-schema validation: unknown fields are errors too."""
    try:
        kubernetes_validate.validate(resource, version, strict=True)
    except kubernetes_validate.ValidationError as exc:
        where = ".".join(str(p) for p in exc.path)
        pytest.fail(
            f"{resource['kind']}/{resource['metadata'].get('name')} is invalid for Kubernetes "
            f"{version} at {where}: {exc.message}"
        )
    except kubernetes_validate.SchemaNotFoundError as exc:
        pytest.fail(f"no schema for {resource['kind']} {resource['apiVersion']}: {exc.message}")


def as_pod(template: dict[str, Any], name: str) -> dict[str, Any]:
    """A pod template as a Pod, so the Pod schema can check it."""
    metadata = dict(template.get("metadata") or {})
    metadata.setdefault("name", name)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": template["spec"]}


def executor_template(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return yaml.safe_load(config_map(resources)["data"]["executor-pod-template.yaml"])


def port_number(container: dict[str, Any], port: int | str) -> int:
    if isinstance(port, int):
        return port
    named = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert port in named, f"probe port {port!r} names no container port"
    return named[port]


# --- every tree renders and is valid ------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(OVERLAYS))
@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_resource_of_an_overlay_is_valid_kubernetes(name: str, version: str) -> None:
    resources = overlay(name)
    kinds = {r["kind"] for r in resources}
    assert {
        "Deployment",
        "Service",
        "PersistentVolumeClaim",
        "ConfigMap",
        "ServiceAccount",
        "Role",
        "RoleBinding",
    } <= kinds
    for resource in resources:
        validate(resource, version)


@pytest.mark.parametrize("tree", ["base", "spark-operator"])
def test_the_base_and_the_spark_operator_example_render(tree: str) -> None:
    resources = render(K8S / tree)
    assert resources
    for resource in resources:
        if resource["kind"] != "SparkApplication":  # a CRD: see the end of this file
            for version in KUBERNETES_VERSIONS:
                validate(resource, version)


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_embedded_pod_templates_are_valid_pods(version: str) -> None:
    """Pod templates that Kustomize carries as data or inside a CRD get the Pod schema too,
    and each runs collab's Spark entrypoint as the image's non-root user over the tables."""
    app = only(render(K8S / "spark-operator"), "SparkApplication")
    pods = {
        "executor (native mode)": as_pod(executor_template(overlay("production")), "executor"),
        **{
            f"{role} (operator)": as_pod(app["spec"][role]["template"], role)
            for role in ("driver", "executor")
        },
    }
    for where, pod in pods.items():
        validate(pod, version)
        spec = pod["spec"]
        (container,) = spec["containers"]
        assert container["command"] == ["/opt/collab/bin/spark-entrypoint"], where
        assert spec["securityContext"]["runAsNonRoot"] is True, where
        assert spec["securityContext"]["runAsUser"] == 10001, where
        mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
        assert mounts["tables"] == "/data", where
        claims = {v["name"]: v.get("persistentVolumeClaim", {}) for v in spec["volumes"]}
        assert claims["tables"]["claimName"] == "collab-lake-tables", where


def test_a_schema_error_is_caught() -> None:
    """The validation is real: a misspelt field fails it."""
    resource = yaml.safe_load(yaml.safe_dump(deployment(overlay("production"))))
    resource["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(resource, KUBERNETES_VERSIONS[-1], strict=True)


# --- namespaces ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(OVERLAYS))
def test_everything_lands_in_the_overlays_namespace(name: str) -> None:
    resources = overlay(name)
    namespace = OVERLAYS[name]
    for resource in resources:
        if resource["kind"] not in CLUSTER_SCOPED:
            assert resource["metadata"].get("namespace") == namespace, resource["metadata"]
    binding = only(resources, "RoleBinding")
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "collab-lake", "namespace": namespace}
    ]


def test_dev_owns_its_namespace_and_production_does_not() -> None:
    namespace = only(overlay("dev"), "Namespace")
    assert namespace["metadata"]["name"] == "collab-dev"
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    # production's namespace holds the externally created Secret and the tables' claim:
    # `kubectl delete -k` must never be able to take it
    assert not [r for r in overlay("production") if r["kind"] == "Namespace"]


# --- the Deployment -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(OVERLAYS))
def test_one_replica_recreated_so_sqlite_has_one_writer(name: str) -> None:
    resources = overlay(name)
    spec = deployment(resources)["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "Recreate"}
    claim = only(resources, "PersistentVolumeClaim", "collab-lake-data")
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]


@pytest.mark.parametrize("name", sorted(OVERLAYS))
def test_probes_ask_the_datasites_metadata_route_on_the_lakes_port(name: str) -> None:
    resources = overlay(name)
    container = lake_container(resources)
    config = lake_toml(resources)
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        get = container[probe]["httpGet"]
        assert get["path"] == HEALTH_PATH, probe
        assert port_number(container, get["port"]) == 8080 == config["lake"]["port"], probe
    # a slow first start (Spark, table schemas) must not be killed by the liveness probe
    startup = container["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 180
    live = container["livenessProbe"]
    assert live["periodSeconds"] * live["failureThreshold"] >= 120


@pytest.mark.parametrize("name", sorted(OVERLAYS))
def test_the_service_reaches_the_lake_and_nothing_else(name: str) -> None:
    resources = overlay(name)
    service = only(resources, "Service", "collab-lake")
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["selector"] == LAKE_LABELS
    assert deployment(resources)["spec"]["selector"]["matchLabels"] == LAKE_LABELS
    labels = deployment(resources)["spec"]["template"]["metadata"]["labels"]
    assert LAKE_LABELS.items() <= labels.items()
    (port,) = service["spec"]["ports"]
    assert port["port"] == 8080
    assert port_number(lake_container(resources), port["targetPort"]) == 8080


@pytest.mark.parametrize("name", sorted(OVERLAYS))
def test_sigterm_gets_time_to_close_the_lake(name: str) -> None:
    # measured here: `collab lake serve` exits 2-3 s after SIGTERM; Spark stages may need more
    assert pod_spec(overlay(name))["terminationGracePeriodSeconds"] >= 30


@pytest.mark.parametrize("name", sorted(OVERLAYS))
def test_pods_run_as_the_images_user_with_a_read_only_root(name: str) -> None:
    spec = pod_spec(overlay(name))
    security = spec["securityContext"]
    assert security["runAsNonRoot"] is True
    assert security["runAsUser"] == security["runAsGroup"] == 10001  # deploy/Dockerfile's user
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}
    for container in spec["containers"] + spec.get("initContainers", []):
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True, container["name"]
        assert context["allowPrivilegeEscalation"] is False, container["name"]
        assert context["capabilities"] == {"drop": ["ALL"]}, container["name"]
        assert mount_of(container, "tmp")["mountPath"] == "/tmp"
        assert "emptyDir" in volume(overlay(name), "tmp")
        assert env(container)["HOME"]["value"] == "/tmp"  # the image's home is read-only
        limits, requests = container["resources"]["limits"], container["resources"]["requests"]
        assert {"cpu", "memory"} <= limits.keys() and {"cpu", "memory"} <= requests.keys()


def test_production_gets_more_resources_than_dev() -> None:
    def gib(quantity: str) -> float:
        number, unit = re.fullmatch(r"(\d+)(Mi|Gi)", quantity).groups()  # type: ignore[union-attr]
        return int(number) / (1024 if unit == "Mi" else 1)

    dev = lake_container(overlay("dev"))["resources"]
    prod = lake_container(overlay("production"))["resources"]
    assert gib(prod["requests"]["memory"]) > gib(dev["requests"]["memory"])
    assert gib(prod["limits"]["memory"]) > gib(dev["limits"]["memory"])
    assert float(prod["requests"]["cpu"]) > 0.5


@pytest.mark.parametrize("name", sorted(OVERLAYS))
def test_shared_memory_holds_the_row_cache(name: str) -> None:
    resources = overlay(name)
    shm = volume(resources, "shm")["emptyDir"]
    assert shm["medium"] == "Memory"
    assert mount_of(lake_container(resources), "shm")["mountPath"] == "/dev/shm"
    budget = lake_toml(resources)["spark"]["conf"].get("spark.collab.rowCacheBytes")
    if lake_toml(resources)["spark"]["master"].startswith("local"):
        # in local mode the budget must be set (the default is a quarter of the node's memory)
        limit = int(re.fullmatch(r"(\d+)Mi", shm["sizeLimit"]).group(1)) << 20  # type: ignore[union-attr]
        assert budget is not None and 0 < int(budget) < limit


# --- configuration ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(OVERLAYS))
def test_the_rendered_config_is_one_the_lake_accepts(name: str, tmp_path: Path) -> None:
    resources = overlay(name)
    container = lake_container(resources)
    assert container["args"] == ["--config", "/etc/collab/lake.toml"]
    assert mount_of(container, "config")["mountPath"] == "/etc/collab"
    assert (
        volume(resources, "config")["configMap"]["name"]
        == config_map(resources)["metadata"]["name"]
    )
    path = tmp_path / "lake.toml"
    path.write_text(config_map(resources)["data"]["lake.toml"])
    config = load_config(path)  # the library's own loader: unknown or secret keys are errors
    assert config.host == "0.0.0.0"  # reachable through the Service
    assert config.port == 8080
    # the records live on the claim, mounted where the config says
    assert mount_of(container, "data")["mountPath"] == str(config.data_dir) == "/var/lib/collab"
    assert volume(resources, "data")["persistentVolumeClaim"]["claimName"] == "collab-lake-data"
    # every table is under the tables mount
    tables = mount_of(container, "tables")
    assert tables["readOnly"] is True
    assert config.tables
    assert all(t.path.startswith(tables["mountPath"] + "/") for t in config.tables)
    assert config.scientists


def test_dev_runs_spark_in_the_pod_and_production_on_kubernetes() -> None:
    assert lake_toml(overlay("dev"))["spark"]["master"] == "local[*]"
    assert lake_toml(overlay("production"))["spark"]["master"] == PRODUCTION_MASTER


# --- secrets ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(OVERLAYS))
def test_secrets_come_from_the_secret_as_files_never_as_literals(name: str) -> None:
    resources = overlay(name)
    container = lake_container(resources)
    variables = env(container)
    for variable in SECRET_ENV:
        assert "value" not in variables.get(variable, {}), f"{variable} is a literal"
    mount = mount_of(container, "secrets")["mountPath"]
    for variable, key in [
        ("COLLAB_ADMIN_PASSWORD_FILE", "admin-password"),
        ("COLLAB_SCIENTIST_PASSWORDS_FILE", "scientist-passwords"),
    ]:
        assert variables[variable]["value"] == f"{mount}/{key}"
    secret = volume(resources, "secrets")["secret"]
    database = variables["COLLAB_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
    assert database["name"] == secret["secretName"] and database["optional"] is True
    # nothing secret-looking in any ConfigMap
    for cm in (r for r in resources if r["kind"] == "ConfigMap"):
        for key, text in cm["data"].items():
            if key.endswith(".toml"):
                assert not _secret_keys(tomllib.loads(text)), (cm["metadata"]["name"], key)


def test_production_expects_an_external_secret() -> None:
    resources = overlay("production")
    assert not [r for r in resources if r["kind"] == "Secret"]
    assert volume(resources, "secrets")["secret"]["secretName"] == SECRET_NAME  # no hash suffix


def test_dev_generates_an_obviously_dev_secret_that_never_reaches_production() -> None:
    secret = only(overlay("dev"), "Secret", SECRET_NAME)
    assert volume(overlay("dev"), "secrets")["secret"]["secretName"] == secret["metadata"]["name"]
    values = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert set(values) == {"admin-password", "scientist-passwords"}
    admin = values["admin-password"]
    assert "dev" in admin and len(admin) >= 12 and admin != "changethis"
    scientists = dict(line.split("=", 1) for line in values["scientist-passwords"].splitlines())
    assert set(scientists) == {s["email"] for s in lake_toml(overlay("dev"))["scientists"]}
    production = yaml.safe_dump_all(overlay("production"))
    for value in [admin, *scientists.values()]:
        assert value not in production


def _secret_keys(table: Any, where: str = "") -> list[str]:
    found = []
    if isinstance(table, dict):
        for key, value in table.items():
            if any(word in key.lower() for word in SECRET_WORDS):
                found.append(f"{where}{key}")
            found += _secret_keys(value, f"{where}{key}.")
    elif isinstance(table, list):
        for i, item in enumerate(table):
            found += _secret_keys(item, f"{where}{i}.")
    return found


# --- images -------------------------------------------------------------------------------------


def images(resources: list[dict[str, Any]]) -> set[str]:
    spec = pod_spec(resources)
    return {c["image"] for c in spec["containers"] + spec.get("initContainers", [])}


def test_one_image_everywhere() -> None:
    (dev,) = images(overlay("dev"))
    (production,) = images(overlay("production"))
    assert dev == production
    assert re.fullmatch(r"[a-z0-9.-]+(/[a-z0-9._-]+)+:[A-Za-z0-9._-]+", production)
    # Spark's executors and the Spark Operator job run the same image
    conf = lake_toml(overlay("production"))["spark"]["conf"]
    assert conf["spark.kubernetes.container.image"] == production
    assert only(render(K8S / "spark-operator"), "SparkApplication")["spec"]["image"] == production


# --- production: Spark on Kubernetes ------------------------------------------------------------


def test_only_production_mounts_a_service_account_token() -> None:
    assert pod_spec(overlay("dev"))["automountServiceAccountToken"] is False
    assert pod_spec(overlay("production"))["automountServiceAccountToken"] is True
    for name in OVERLAYS:
        assert only(overlay(name), "ServiceAccount")["automountServiceAccountToken"] is False
        assert pod_spec(overlay(name))["serviceAccountName"] == "collab-lake"


def test_the_lake_may_run_its_executor_pods() -> None:
    role = only(overlay("production"), "Role")
    allowed = {
        (resource, verb)
        for rule in role["rules"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }
    for verb in ("create", "get", "list", "watch", "delete"):
        assert ("pods", verb) in allowed and ("configmaps", verb) in allowed
    kinds = {r["kind"] for r in overlay("production")}
    assert not kinds & {"ClusterRole", "ClusterRoleBinding"}
    assert all(rule["apiGroups"] == [""] for rule in role["rules"])
    assert "*" not in {verb for _, verb in allowed}


def test_pyspark_gets_the_pods_identity() -> None:
    variables = lake_container(overlay("production"))["env"]
    names = [v["name"] for v in variables]
    args = env(lake_container(overlay("production")))["PYSPARK_SUBMIT_ARGS"]["value"].split()
    assert args[-1] == "pyspark-shell"  # pyspark's launcher needs it last
    confs = dict(a.split("=", 1) for a in args[1:-1:2])
    assert args[:-1:2] == ["--conf"] * len(confs)
    assert confs["spark.kubernetes.namespace"] == "$(POD_NAMESPACE)"
    assert confs["spark.kubernetes.driver.pod.name"] == "$(POD_NAME)"
    assert confs["spark.driver.host"] == "$(POD_IP)"
    # Kubernetes expands $(VAR) only from variables defined earlier in the list
    for i, variable in enumerate(variables):
        for ref in re.findall(r"\$\((\w+)\)", variable.get("value", "")):
            assert ref in names[:i], f"{variable['name']} uses $({ref}) before it is defined"
    fields = {
        v["name"]: v["valueFrom"]["fieldRef"]["fieldPath"]
        for v in variables
        if "fieldRef" in v.get("valueFrom", {})
    }
    assert fields == {
        "POD_NAME": "metadata.name",
        "POD_NAMESPACE": "metadata.namespace",
        "POD_IP": "status.podIP",
    }


def test_executor_pods_come_from_the_template_in_the_config_map() -> None:
    resources = overlay("production")
    conf = lake_toml(resources)["spark"]["conf"]
    mount = mount_of(lake_container(resources), "config")["mountPath"]
    assert conf["spark.kubernetes.executor.podTemplateFile"] == (
        f"{mount}/executor-pod-template.yaml"
    )
    template = executor_template(resources)
    (container,) = template["spec"]["containers"]
    assert container["name"] == conf["spark.kubernetes.executor.podTemplateContainerName"]
    assert container["command"] == [ENTRYPOINT]  # the image's own entrypoint serves a lake
    assert template["metadata"]["labels"].items() >= EXECUTOR_LABELS.items()
    assert template["spec"]["automountServiceAccountToken"] is False
    lake_security = pod_spec(resources)["securityContext"]
    for key in ("runAsNonRoot", "runAsUser", "runAsGroup", "fsGroup", "seccompProfile"):
        assert template["spec"]["securityContext"][key] == lake_security[key], key
    assert container["securityContext"] == lake_container(resources)["securityContext"]
    # executors read the tables at the same paths as the lake
    lake_tables = volume(resources, "tables")["persistentVolumeClaim"]
    executor_tables = next(v for v in template["spec"]["volumes"] if v["name"] == "tables")
    assert executor_tables["persistentVolumeClaim"] == lake_tables
    assert mount_of(container, "tables") == mount_of(lake_container(resources), "tables")
    assert mount_of(container, "tmp")["mountPath"] == "/tmp"
    # the Service and the PodDisruptionBudget never select executors
    service = only(resources, "Service", "collab-lake")
    assert not service["spec"]["selector"].items() <= template["metadata"]["labels"].items()


def test_network_policies_open_the_datasite_and_sparks_ports_only() -> None:
    resources = overlay("production")
    conf = lake_toml(resources)["spark"]["conf"]
    driver_port, block_port = int(conf["spark.driver.port"]), int(conf["spark.blockManager.port"])
    policies = {p["metadata"]["name"]: p for p in resources if p["kind"] == "NetworkPolicy"}
    lake = policies["collab-lake"]
    assert lake["spec"]["podSelector"]["matchLabels"] == LAKE_LABELS
    assert lake["spec"]["policyTypes"] == ["Ingress"]
    rules = lake["spec"]["ingress"]
    open_rules = [r for r in rules if "from" not in r]
    assert [p["port"] for r in open_rules for p in r["ports"]] == [8080]
    spark_rules = [r for r in rules if "from" in r]
    assert {p["port"] for r in spark_rules for p in r["ports"]} == {driver_port, block_port}
    for rule in spark_rules:
        assert [f["podSelector"]["matchLabels"] for f in rule["from"]] == [EXECUTOR_LABELS]
    executors = policies["collab-lake-spark-executors"]
    assert executors["spec"]["podSelector"]["matchLabels"] == EXECUTOR_LABELS
    (rule,) = executors["spec"]["ingress"]
    assert [p["port"] for p in rule["ports"]] == [block_port]
    assert executor_template(resources)["metadata"]["labels"].items() >= EXECUTOR_LABELS.items()


def test_a_disruption_budget_keeps_the_one_lake_pod() -> None:
    budget = only(overlay("production"), "PodDisruptionBudget")
    assert budget["spec"]["selector"]["matchLabels"] == LAKE_LABELS
    assert budget["spec"]["maxUnavailable"] == 0
    assert budget["spec"]["unhealthyPodEvictionPolicy"] == "AlwaysAllow"
    assert not [r for r in overlay("dev") if r["kind"] == "PodDisruptionBudget"]


# --- dev: the demo table ------------------------------------------------------------------------


def test_devs_init_container_writes_the_table_devs_config_hosts(tmp_path: Path) -> None:
    """Runs the init container's script here, into a temporary folder instead of /data."""
    resources = overlay("dev")
    (init,) = pod_spec(resources)["initContainers"]
    assert init["command"][:2] == ["python", "-c"]
    variables = env(init)
    mount = mount_of(init, "tables")
    assert variables["TABLES_DIR"]["value"] == mount["mountPath"] == "/data"
    assert not mount.get("readOnly")
    assert "emptyDir" in volume(resources, "tables")
    assert "persistentVolumeClaim" not in volume(resources, "tables")
    done = subprocess.run(
        [sys.executable, "-c", init["command"][2]],
        env={**os.environ, "TABLES_DIR": str(tmp_path), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    (table,) = lake_toml(resources)["tables"]
    written = tmp_path / Path(table["path"]).relative_to(mount["mountPath"])
    frame = pd.read_parquet(written)
    assert len(frame) >= table["policy"]["min_rows"]
    assert set(table["private_columns"]) <= set(frame.columns)
    assert {"malignant", "mean_radius"} <= set(frame.columns)


# --- the Spark Operator example (a CRD: no offline schema) --------------------------------------

# The Kubeflow Spark Operator's CRD (sparkoperator.k8s.io/v1beta2) is not among the built-in
# schemas that kubernetes-validate ships, and it is not vendored here. So the SparkApplication
# itself is checked for shape: the CRD's required fields and enums, and top-level spec keys the
# CRD knows (v2.x). Its driver and executor pod templates are validated against the Pod schema
# above (test_embedded_pod_templates_are_valid_pods).
SPARK_APPLICATION_REQUIRED = {"type", "sparkVersion", "mainApplicationFile", "driver", "executor"}
SPARK_APPLICATION_KEYS = {
    "arguments", "batchScheduler", "batchSchedulerOptions", "deps", "driver",
    "driverIngressOptions", "driverPodDisruptionBudget", "dynamicAllocation", "executor",
    "failureRetries", "hadoopConf", "hadoopConfigMap", "image", "imagePullPolicy",
    "imagePullSecrets", "mainApplicationFile", "mainClass", "memoryOverheadFactor", "mode",
    "monitoring", "nodeSelector", "proxyUser", "pythonVersion", "restartPolicy", "retryInterval",
    "sparkConf", "sparkConfigMap", "sparkUIOptions", "sparkVersion", "suspend",
    "timeToLiveSeconds", "type", "volumes",
}  # fmt: skip


def test_the_spark_operator_example_has_the_crds_shape() -> None:
    (app,) = render(K8S / "spark-operator")
    assert app["apiVersion"] == "sparkoperator.k8s.io/v1beta2"
    assert app["kind"] == "SparkApplication"
    assert app["metadata"]["namespace"] == OVERLAYS["production"]
    spec = app["spec"]
    assert SPARK_APPLICATION_REQUIRED <= spec.keys()
    assert spec.keys() <= SPARK_APPLICATION_KEYS
    assert spec["type"] in ("Java", "Python", "Scala", "R")
    assert spec["mode"] in ("cluster", "client")
    assert spec["sparkVersion"] == "4.0.1"  # the pyspark in the image
    job = spec["mainApplicationFile"].removeprefix("local://")
    assert job.startswith("/opt/collab/jobs/")
    assert (DEPLOY / "jobs" / Path(job).name).is_file()
    assert spec["driver"]["serviceAccount"] == "collab-lake"
    for role in ("driver", "executor"):
        pod = spec[role]["template"]["spec"]
        (container,) = pod["containers"]
        assert container["command"] == [ENTRYPOINT]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert pod["securityContext"]["runAsUser"] == 10001
        assert {m["mountPath"] for m in container["volumeMounts"]} == {"/data", "/tmp"}
    assert spec["driver"]["template"]["spec"]["automountServiceAccountToken"] is True
