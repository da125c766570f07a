"""Renders deploy/helm/tierdesk with each of its values files through Helm's own library
(helm-python-sdk, no helm binary), lints it, validates every object against the Kubernetes schemas
(kubernetes-validate, strict: no unknown field), and checks what those schemas do not know: the KEDA
and CloudNativePG objects' required fields and the chart's promises (a Deployment, probes and a
PodDisruptionBudget per server; each level scaled on its own queue; secrets only as files; the
migration a hook; /internal/ closed at the gateway). Run by scripts/helm-check."""

import re
import sys
from pathlib import Path

import helm_python as helm
import kubernetes_validate
import yaml

CHART = Path(sys.argv[1])
KUBE_VERSION = "1.31.0"
RELEASE, NAMESPACE = "tierdesk", "helpdesk"
SERVERS = {"intake": 8080, "triage": 8081, "vendor-bridge": 8083, "console": 8084}
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
    return condition


def render(values):
    chart = helm.Chart.load(str(CHART))
    manifests = chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
    objects = []
    for template, text in sorted(manifests.items()):
        for document in yaml.safe_load_all(text):
            if document:
                objects.append((template, document))
    return objects


def env_of(container):
    return {item["name"]: item.get("value") for item in container.get("env", [])}


def check_objects(label, values, objects):
    by_kind = {}
    for template, obj in objects:
        by_kind.setdefault(obj["kind"], {})[obj["metadata"]["name"]] = obj
    # --- every object against the Kubernetes schemas (strict: an unknown field is an error) ---------
    custom = 0
    for template, obj in objects:
        try:
            kubernetes_validate.validate(obj, KUBE_VERSION, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            custom += 1
            check(obj["apiVersion"] in ("keda.sh/v1alpha1", "postgresql.cnpg.io/v1"), f"{label}: {template}: no schema for {obj['apiVersion']} {obj['kind']}")
        except kubernetes_validate.ValidationError as error:
            failures.append(f"{label}: {template}: {obj['kind']} {obj['metadata']['name']}: {error.message} at {list(error.absolute_path)}")

    deployments = by_kind.get("Deployment", {})
    services = by_kind.get("Service", {})
    pdbs = by_kind.get("PodDisruptionBudget", {})
    levels = values.get("tierQueue", {}).get("levels", [1, 2, 3])
    cnpg = values["database"]["cloudnativepg"]["enabled"]
    expected = {f"{RELEASE}-{name}" for name in SERVERS} | {f"{RELEASE}-tier{level}-queue" for level in levels} | {f"{RELEASE}-gateway"}
    check(set(deployments) == expected, f"{label}: Deployments {sorted(deployments)}, expected {sorted(expected)}")

    # --- each server: probes on /health, a Service, a PodDisruptionBudget, secrets only as files ----
    for name, deployment in deployments.items():
        labels = deployment["spec"]["selector"]["matchLabels"]
        check(any(p["spec"]["selector"]["matchLabels"] == labels for p in pdbs.values()), f"{label}: {name} has no PodDisruptionBudget")
        check(any(s["spec"]["selector"].items() <= deployment["spec"]["template"]["metadata"]["labels"].items() for s in services.values()),
              f"{label}: no Service selects {name}")
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        ready = container.get("readinessProbe", {}).get("httpGet", {}).get("path", "")
        check(ready.startswith("/health"), f"{label}: {name}'s readiness probe is not on /health: {ready!r}")
        if name == f"{RELEASE}-gateway":
            continue
        check(container.get("livenessProbe", {}).get("httpGet", {}).get("path") == "/health/live", f"{label}: {name} has no liveness probe on /health/live")
        env = env_of(container)
        for key, value in env.items():
            secretish = re.search(r"(TOKEN|SECRET|PASSWORD)$", key)
            check(not secretish, f"{label}: {name} sets the secret {key} as a value, not as a file ({key}_FILE)")
            if key.endswith("_FILE"):
                mounted = [m["mountPath"] for m in container.get("volumeMounts", [])]
                check(any(value.startswith(path + "/") for path in mounted), f"{label}: {name}'s {key} ({value}) is no mounted file")
                volume = deployment["spec"]["template"]["spec"]["volumes"][0]
                keys = [item["key"] for item in volume["secret"]["items"]]
                check(value.rsplit("/", 1)[1] in keys, f"{label}: {name}'s {key} names a key its secret volume does not mount")
        url = env.get("TIERDESK_DATABASE_URL", "")
        host = re.match(r"postgres://[^@:]+@([^:/]+)", url)
        wanted = (f"{RELEASE}-db-pooler-rw" if values["database"]["cloudnativepg"]["pooler"]["enabled"] else f"{RELEASE}-db-rw") if cnpg \
            else values["database"]["external"]["host"]
        check(host and host.group(1) == wanted, f"{label}: {name} connects to {url!r}, not to {wanted}")
        check(":" not in url.split("//", 1)[1].split("@", 1)[0], f"{label}: {name}'s database URL holds a password")

    # --- each level's tier-queue: its own level, scaled on its own queue depth by KEDA ---------------
    scaled = by_kind.get("ScaledObject", {})
    auths = by_kind.get("TriggerAuthentication", {})
    for level in levels:
        name = f"{RELEASE}-tier{level}-queue"
        deployment = deployments.get(name)
        if not check(deployment, f"{label}: no Deployment {name}"):
            continue
        env = env_of(deployment["spec"]["template"]["spec"]["containers"][0])
        check(env.get("TIERDESK_TIERS") == str(level), f"{label}: {name} serves TIERDESK_TIERS={env.get('TIERDESK_TIERS')}")
        check("replicas" not in deployment["spec"], f"{label}: {name} sets replicas, which KEDA owns")
        targets = [s for s in scaled.values() if s["spec"]["scaleTargetRef"].get("name") == name]
        if not check(len(targets) == 1, f"{label}: {len(targets)} ScaledObjects scale {name}"):
            continue
        spec = targets[0]["spec"]
        check(spec.get("scaleTargetRef", {}).get("kind", "Deployment") == "Deployment", f"{label}: {name}'s ScaledObject targets no Deployment")
        check(0 <= spec.get("minReplicaCount", 0) <= spec.get("maxReplicaCount", 100), f"{label}: {name}: minReplicaCount above maxReplicaCount")
        triggers = spec.get("triggers", [])
        check(len(triggers) == 1 and triggers[0].get("type") == "postgresql", f"{label}: {name}'s trigger is not KEDA's postgresql scaler")
        metadata = triggers[0].get("metadata", {}) if triggers else {}
        for field in ("query", "targetQueryValue", "host", "port", "userName", "dbName", "sslmode"):
            check(isinstance(metadata.get(field), str) and metadata[field], f"{label}: {name}'s postgresql trigger lacks {field} (a string)")
        check(metadata.get("targetQueryValue", "").replace(".", "", 1).isdigit(), f"{label}: {name}'s targetQueryValue is not a number")
        check(re.search(rf"\btier = {level}\b", metadata.get("query", "")) and "status = 'queued'" in metadata.get("query", ""),
              f"{label}: {name} is not scaled on its own level's queue: {metadata.get('query')!r}")
        check(metadata.get("sslmode") in ("disable", "allow", "prefer", "require", "verify-ca", "verify-full"), f"{label}: {name}: sslmode {metadata.get('sslmode')!r}")
        reference = triggers[0].get("authenticationRef", {}).get("name") if triggers else None
        auth = auths.get(reference)
        if check(auth, f"{label}: {name}'s authenticationRef {reference!r} names no TriggerAuthentication"):
            targets = auth["spec"].get("secretTargetRef", [])
            check(any(t.get("parameter") == "password" and t.get("name") and t.get("key") for t in targets),
                  f"{label}: {reference} gives the scaler no password from a Secret")

    # --- PostgreSQL: CloudNativePG's Cluster with replicas and its PgBouncer Pooler, or none ---------
    clusters, poolers = by_kind.get("Cluster", {}), by_kind.get("Pooler", {})
    if cnpg:
        if check(list(clusters) == [f"{RELEASE}-db"], f"{label}: Clusters {list(clusters)}"):
            spec = clusters[f"{RELEASE}-db"]["spec"]
            check(isinstance(spec.get("instances"), int) and spec["instances"] >= 2, f"{label}: the Cluster has no replicas (instances {spec.get('instances')})")
            check(spec.get("storage", {}).get("size"), f"{label}: the Cluster has no storage.size")
            initdb = spec.get("bootstrap", {}).get("initdb", {})
            check(initdb.get("database") == values["database"]["name"] and initdb.get("owner") == values["database"]["owner"],
                  f"{label}: the Cluster's initdb {initdb} is not the chart's database and owner")
            check(spec.get("enableSuperuserAccess") is False, f"{label}: the Cluster enables superuser access")
        if check(list(poolers) == [f"{RELEASE}-db-pooler-rw"], f"{label}: Poolers {list(poolers)}"):
            spec = poolers[f"{RELEASE}-db-pooler-rw"]["spec"]
            check(spec.get("cluster", {}).get("name") == f"{RELEASE}-db", f"{label}: the Pooler serves {spec.get('cluster')}")
            check(spec.get("type") == "rw" and isinstance(spec.get("instances"), int) and spec["instances"] >= 1, f"{label}: the Pooler's type or instances")
            check(spec.get("pgbouncer", {}).get("poolMode") in ("session", "transaction"), f"{label}: the Pooler's pgbouncer.poolMode")
    else:
        check(not clusters and not poolers, f"{label}: CloudNativePG objects rendered for an external database")

    # --- the migration: a hook Job, straight to the primary -------------------------------------------
    jobs = by_kind.get("Job", {})
    if check(list(jobs) == [f"{RELEASE}-migrate"], f"{label}: Jobs {list(jobs)}"):
        job = jobs[f"{RELEASE}-migrate"]
        hooks = set(job["metadata"].get("annotations", {}).get("helm.sh/hook", "").split(","))
        check({"pre-upgrade", "post-install" if cnpg else "pre-install"} <= hooks, f"{label}: the migration's hooks are {sorted(hooks)}")
        container = job["spec"]["template"]["spec"]["containers"][0]
        check(container["command"] == ["./tierdesk", "migrate"], f"{label}: the migration runs {container['command']}")
        url = env_of(container).get("TIERDESK_DATABASE_URL", "")
        check("pooler" not in url, f"{label}: the migration goes through the pooler: {url}")

    # --- the gateway: deploy/nginx.conf, upstreams the release's Services -----------------------------
    config = by_kind.get("ConfigMap", {}).get(f"{RELEASE}-gateway", {}).get("data", {}).get("nginx.conf", "")
    check("127.0.0.11" not in config and "resolver " in config, f"{label}: the gateway keeps Docker's resolver")
    check("location ^~ /internal/" in config, f"{label}: the gateway does not close /internal/")
    suffix = f".{NAMESPACE}.svc.cluster.local"
    for host in set(re.findall(r"http://([a-z0-9.-]+):\d+", config)):
        check(host.endswith(suffix) and host[: -len(suffix)] in services, f"{label}: the gateway proxies to {host}, no Service of the release")

    # --- NetworkPolicies: the servers only from the release's pods --------------------------------------
    policies = by_kind.get("NetworkPolicy", {})
    servers = policies.get(f"{RELEASE}-servers")
    if check(servers, f"{label}: no NetworkPolicy for the servers"):
        sources = [peer for rule in servers["spec"]["ingress"] for peer in rule.get("from", [])]
        check(sources and all("podSelector" in p or "namespaceSelector" in p for p in sources) and
              any(p.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/instance") == RELEASE for p in sources),
              f"{label}: the servers' NetworkPolicy admits more than the release's pods: {sources}")
    print(f"helm-check: {label}: {len(objects)} objects rendered, {len(objects) - custom} valid against Kubernetes {KUBE_VERSION}, "
          f"{custom} KEDA and CloudNativePG objects checked")


def main():
    files = [CHART / "values.yaml"] + sorted(CHART.glob("values-*.yaml"))
    defaults = yaml.safe_load((CHART / "values.yaml").read_text())
    for values_file in files:
        overrides = yaml.safe_load(values_file.read_text()) if values_file.name != "values.yaml" else {}
        report = helm.lint(str(CHART), overrides, strict=True, kube_version=f"v{KUBE_VERSION}")
        for message in report.get("messages", []):
            if message.get("severity", 0) >= 2:
                failures.append(f"{values_file.name}: lint: {message.get('path')}: {message.get('error')}")
        merged = helm.Chart.load(str(CHART)).merge_values(overrides)
        check_objects(values_file.name, merged, render(overrides))
    if failures:
        print("helm-check FAILED:\n  " + "\n  ".join(failures), file=sys.stderr)
        sys.exit(1)
    print("helm-check: passed")


if __name__ == "__main__":
    main()
