#!/usr/bin/env python3
"""Cross-checks the Kubernetes manifests in payara-config/deploy/kubernetes: what a schema cannot
see (kubernetes-validate checks each object against the API schema separately). Every Service
selects the Deployment's pods and names a container port that exists; the probes hit the
MicroProfile Health endpoints on a declared port; a GPU is requested; the Hazelcast discovery
settings agree with the headless Service and the RBAC grants what Hazelcast's Kubernetes client
reads; the cluster name and the cache secret come from a Secret; a NetworkPolicy admits the
Hazelcast port from the service's own pods only; every ConfigMap variable is a setting the service
or the launcher knows. Usage:
    check_kubernetes.py KUBERNETES_DIR MICROPROFILE_CONFIG_PROPERTIES LAUNCHER_SCRIPT
"""
import os
import re
import sys

import yaml

failures = 0


def check(what, ok, detail=""):
    global failures
    print(("  ok   " if ok else "  FAIL ") + "kubernetes: " + what + ("" if ok else "  (" + str(detail) + ")"))
    if not ok:
        failures += 1


def selects(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def mp_env_names(properties_file):
    """The environment variable names MicroProfile Config maps to each property (and the property
    names themselves), from the webapp's defaults file (commented-out properties count too)."""
    names = set()
    for line in open(properties_file, encoding="utf-8"):
        m = re.match(r"\s*#?\s*([A-Za-z][A-Za-z0-9_.\-]*)\s*=", line)
        if m:
            prop = m.group(1)
            names.add(re.sub(r"[^A-Za-z0-9]", "_", prop).upper())
    return names


def mp_default(properties_file, prop):
    """The default of one property in the webapp's defaults file, or None."""
    for line in open(properties_file, encoding="utf-8"):
        m = re.match(r"\s*" + re.escape(prop) + r"\s*=\s*(.*?)\s*$", line)
        if m:
            return m.group(1)
    return None


def launcher_env_names(script):
    return set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)[:}\-]", open(script, encoding="utf-8").read()))


def main():
    kdir, mp_file, launcher = sys.argv[1:4]
    kustomization = yaml.safe_load(open(os.path.join(kdir, "kustomization.yaml")))
    namespace = kustomization.get("namespace")
    listed = kustomization.get("resources", [])
    present = sorted(f for f in os.listdir(kdir) if f.endswith(".yaml") and f != "kustomization.yaml")
    check("kustomization lists every manifest", sorted(listed) == present, "%s vs %s" % (listed, present))

    objects = []
    for name in present:
        for doc in yaml.safe_load_all(open(os.path.join(kdir, name))):
            if doc:
                objects.append((name, doc))

    def by_kind(kind):
        return [o for _, o in objects if o.get("kind") == kind]

    def named(kind, name):
        return next((o for o in by_kind(kind) if o["metadata"]["name"] == name), None)

    for fname, o in objects:
        ns = o.get("metadata", {}).get("namespace")
        if o.get("kind") != "Namespace":
            check("%s/%s in namespace %s" % (o["kind"], o["metadata"]["name"], namespace), ns == namespace, ns)
    check("the Namespace object is the kustomization's", [n["metadata"]["name"] for n in by_kind("Namespace")]
          == [namespace])

    deployments = by_kind("Deployment")
    check("one Deployment", len(deployments) == 1, len(deployments))
    if not deployments:
        return 1
    dep = deployments[0]
    pod = dep["spec"]["template"]
    pod_labels = pod["metadata"]["labels"]
    check("Deployment selector matches its pod labels", selects(dep["spec"]["selector"]["matchLabels"], pod_labels))
    spec = pod["spec"]
    containers = spec["containers"]
    check("one container", len(containers) == 1)
    c = containers[0]
    ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
    check("container ports http 8080 and hazelcast", ports.get("http") == 8080 and "hazelcast" in ports, ports)

    res = c.get("resources", {})
    check("requests and limits one nvidia.com/gpu",
          str(res.get("limits", {}).get("nvidia.com/gpu")) == "1"
          and str(res.get("requests", {}).get("nvidia.com/gpu", "1")) == "1", res)
    check("memory limit set", "memory" in res.get("limits", {}))

    for probe, path in (("readinessProbe", "/health/ready"), ("livenessProbe", "/health/live"),
                        ("startupProbe", "/health/started")):
        get = c.get(probe, {}).get("httpGet", {})
        check("%s GET %s on a declared port" % (probe, path),
              get.get("path") == path and (get.get("port") in ports or get.get("port") in ports.values()), get)
    startup = c.get("startupProbe", {})
    budget = startup.get("periodSeconds", 10) * startup.get("failureThreshold", 3)
    check("startupProbe allows at least 5 minutes for loading the model (%d s)" % budget, budget >= 300)
    live = c.get("livenessProbe", {})
    check("livenessProbe gives up later than readiness",
          live.get("periodSeconds", 10) * live.get("failureThreshold", 3)
          > c["readinessProbe"].get("periodSeconds", 10) * c["readinessProbe"].get("failureThreshold", 3))

    sa_name = spec.get("serviceAccountName")
    check("ServiceAccount %s exists" % sa_name, named("ServiceAccount", sa_name) is not None)
    check("service account token mounted (Hazelcast discovery reads it)",
          spec.get("automountServiceAccountToken", True) is not False)

    cms = [e["configMapRef"]["name"] for e in c.get("envFrom", []) if "configMapRef" in e]
    check("envFrom ConfigMaps exist", cms and all(named("ConfigMap", n) for n in cms), cms)
    env = {}
    for n in cms:
        env.update(named("ConfigMap", n)["data"])
    env_names = {e["name"] for e in c.get("env", [])}
    check("POD_NAMESPACE from the downward API", any(
        e["name"] == "POD_NAMESPACE" and e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
        == "metadata.namespace" for e in c.get("env", [])))

    # SIGTERM comes after the preStop pause; then the drain (shutdown.drain-seconds) and Payara's own
    # stop (measured: 3 to 6 s) must end before the grace period does, or the kubelet kills the JVM
    pre_stop = c.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
    pause = int(pre_stop[1]) if len(pre_stop) == 2 and pre_stop[0] == "sleep" else 0
    drain = int(env.get("SHUTDOWN_DRAIN_SECONDS") or mp_default(mp_file, "shutdown.drain-seconds") or 0)
    grace = spec.get("terminationGracePeriodSeconds", 30)
    check("grace period (%d s) covers the preStop pause (%d s), the drain (%d s) and 10 s for Payara's stop"
          % (grace, pause, drain), pause > 0 and grace >= pause + drain + 10)

    known = mp_env_names(mp_file) | launcher_env_names(launcher)
    unknown = sorted((set(env) | env_names) - known - {"POD_NAMESPACE"})
    check("every variable is a service setting or a launcher setting", not unknown, unknown)

    mounts = {m["name"]: m["mountPath"] for m in c.get("volumeMounts", [])}
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    check("every volumeMount has a volume", set(mounts) <= set(volumes), set(mounts) - set(volumes))
    model_path = env.get("MODEL_PATH", "")
    model_mount = next((m for m in c.get("volumeMounts", []) if model_path.startswith(m["mountPath"] + "/")), None)
    check("MODEL_PATH %s is on a mounted volume" % model_path, model_mount is not None)
    if model_mount:
        vol = volumes.get(model_mount["name"], {})
        claim = vol.get("persistentVolumeClaim", {}).get("claimName")
        check("model volume is the PersistentVolumeClaim %s, read-only" % claim,
              named("PersistentVolumeClaim", claim) is not None and model_mount.get("readOnly") is True)
    sc = c.get("securityContext", {})
    if sc.get("readOnlyRootFilesystem"):
        check("read-only root file system: /tmp is writable", "/tmp" in mounts.values())

    services = by_kind("Service")
    for svc in services:
        name = svc["metadata"]["name"]
        check("Service %s selects the pods" % name, selects(svc["spec"].get("selector"), pod_labels))
        for p in svc["spec"]["ports"]:
            tp = p.get("targetPort", p["port"])
            check("Service %s targetPort %s is a container port" % (name, tp),
                  tp in ports or tp in ports.values())

    mode = env.get("CLUSTER_MODE")
    check("CLUSTER_MODE is a Kubernetes discovery mode", mode in ("kubernetes", "hazelcast-kubernetes"), mode)
    hz_name = env.get("HAZELCAST_SERVICE", "therapeia-hazelcast")
    hz = named("Service", hz_name)
    check("headless Service %s exists" % hz_name, hz is not None)
    if hz:
        check("%s is headless" % hz_name, hz["spec"].get("clusterIP") == "None")
        check("%s publishes pods that are not ready yet" % hz_name, hz["spec"].get("publishNotReadyAddresses") is True)
        cluster_port = int(env.get("CLUSTER_PORT", "6900"))
        check("%s port is CLUSTER_PORT %d and the container's hazelcast port" % (hz_name, cluster_port),
              [p["port"] for p in hz["spec"]["ports"]] == [cluster_port] and ports.get("hazelcast") == cluster_port)
    http = [s for s in services if s["spec"].get("type", "ClusterIP") == "ClusterIP"
            and s["spec"].get("clusterIP") != "None"]
    check("a ClusterIP Service for HTTP", any(
        any(p.get("targetPort") in ("http", 8080) for p in s["spec"]["ports"]) for s in http))

    needed = {("", "endpoints"), ("", "pods"), ("discovery.k8s.io", "endpointslices")}
    granted = set()
    for role in by_kind("Role"):
        for rule in role.get("rules", []):
            if {"get", "list"} <= set(rule.get("verbs", [])):
                for g in rule.get("apiGroups", []):
                    for r in rule.get("resources", []):
                        granted.add((g, r))
    check("Role grants get/list on endpoints, pods, endpointslices", needed <= granted, needed - granted)
    bound = False
    for rb in by_kind("RoleBinding"):
        role = named("Role", rb["roleRef"]["name"])
        if role and any(s.get("kind") == "ServiceAccount" and s.get("name") == sa_name for s in rb["subjects"]):
            bound = True
    check("RoleBinding binds the Role to the pods' ServiceAccount", bound)

    # the Data Grid: its name and the cache secret from a Secret, its port fenced off
    env_list = c.get("env", [])
    secret_refs = {}
    for e in env_list:
        ref = e.get("valueFrom", {}).get("secretKeyRef")
        if ref:
            secret_refs[e["name"]] = ref
    for name in ("CLUSTER_NAME", "CACHE_SECRET"):
        ref = secret_refs.get(name, {})
        check("%s comes from a Secret, not optional" % name, ref.get("name") and ref.get("optional") is not True, ref)
        check("%s is not in a ConfigMap" % name, name not in env)
    check("CLUSTER_NAME and CACHE_SECRET come from the same Secret",
          secret_refs.get("CLUSTER_NAME", {}).get("name") == secret_refs.get("CACHE_SECRET", {}).get("name"))

    policies = [p for p in by_kind("NetworkPolicy")
                if selects(p["spec"].get("podSelector", {}).get("matchLabels"), pod_labels)]
    check("a NetworkPolicy selects the pods", len(policies) >= 1, [p["metadata"]["name"] for p in by_kind("NetworkPolicy")])
    container_ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}

    def covers(rule, port_name):
        rule_ports = rule.get("ports")
        if not rule_ports:
            return True  # no ports: every port
        return any(p.get("port") in (port_name, container_ports.get(port_name)) for p in rule_ports)

    def own_pods_only(rule):
        peers = rule.get("from")
        if not peers:
            return False  # no from: every source
        for peer in peers:
            if set(peer) != {"podSelector"}:
                return False  # an ipBlock or a namespaceSelector reaches beyond the namespace's pods
            if not selects(peer["podSelector"].get("matchLabels"), pod_labels):
                return False
        return True

    for policy in policies:
        name = policy["metadata"]["name"]
        check("NetworkPolicy %s restricts ingress" % name, "Ingress" in policy["spec"].get("policyTypes", ["Ingress"]))
        rules = policy["spec"].get("ingress", [])
        hz_rules = [r for r in rules if covers(r, "hazelcast")]
        check("NetworkPolicy %s admits the hazelcast port from the service's own pods only" % name,
              hz_rules and all(own_pods_only(r) for r in hz_rules), hz_rules)
        check("NetworkPolicy %s admits the http port" % name, any(covers(r, "http") for r in rules))
        for r in rules:
            for p in r.get("ports", []):
                check("NetworkPolicy %s port %s is a container port" % (name, p.get("port")),
                      p.get("port") in container_ports or p.get("port") in container_ports.values())

    for pdb in by_kind("PodDisruptionBudget"):
        check("PodDisruptionBudget selects the pods", selects(pdb["spec"]["selector"]["matchLabels"], pod_labels))
        check("PodDisruptionBudget lets fewer pods go than there are replicas",
              pdb["spec"].get("maxUnavailable", 1) < dep["spec"].get("replicas", 1))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
