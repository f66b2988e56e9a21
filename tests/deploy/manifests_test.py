#!/usr/bin/python3
"""The container manifests parse and say what matters (docs/DEPLOY.md).

deploy/k8s/daemonset.yaml: node id from spec.nodeName, hostPath data and locks, ALL
capabilities dropped and exactly the unit's added, read-only root, no privilege escalation,
hostPID, the AppArmor profile. deploy/docker/compose.yaml: the same for "CCTV mode".
Run with Debian's /usr/bin/python3 (python3-yaml).   manifests_test.py SOURCE_DIR
"""
import os
import re
import sys

CI = os.environ.get("CI") == "true"
try:
    import yaml
except ImportError:
    if CI:
        print("FAIL: python3-yaml missing (CI=true: this test must run)")
        sys.exit(1)
    print("SKIP: python3-yaml missing for this python3 (apt-get install python3-yaml)")
    sys.exit(77)

src = sys.argv[1]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


def unit_caps():
    text = open(os.path.join(src, "deploy/systemd/ritma-sensor.service")).read()
    m = re.search(r"^AmbientCapabilities=(.*)$", text, re.M)
    return sorted(c.strip().removeprefix("CAP_") for c in m.group(1).split())


caps = unit_caps()

# ---- Kubernetes
docs = [d for d in yaml.safe_load_all(open(os.path.join(src, "deploy/k8s/daemonset.yaml"))) if d]
ds = [d for d in docs if d.get("kind") == "DaemonSet"]
check(len(ds) == 1, "one DaemonSet")
pod = ds[0]["spec"]["template"]["spec"]
check(ds[0]["spec"]["selector"]["matchLabels"].items()
      <= ds[0]["spec"]["template"]["metadata"]["labels"].items(), "selector matches the labels")
check(pod.get("hostPID") is True, "hostPID: true")
check(not pod.get("hostNetwork"), "no hostNetwork")
c = pod["containers"][0]
env = {e["name"]: e for e in c.get("env", [])}
check(env.get("RITMA_NODE_ID", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
      == "spec.nodeName", "RITMA_NODE_ID from the downward API (spec.nodeName)")
sc = c["securityContext"]
check(sc.get("capabilities", {}).get("drop") == ["ALL"], "capabilities drop ALL")
check(sorted(sc.get("capabilities", {}).get("add", [])) == caps,
      f"capabilities add exactly {caps}")
check(sc.get("readOnlyRootFilesystem") is True, "readOnlyRootFilesystem: true")
check(sc.get("allowPrivilegeEscalation") is False, "allowPrivilegeEscalation: false")
check(sc.get("privileged") in (None, False), "not privileged")
check(sc.get("appArmorProfile") == {"type": "Localhost", "localhostProfile": "ritma-sensor"},
      "appArmorProfile Localhost ritma-sensor")
ann = ds[0]["spec"]["template"]["metadata"].get("annotations", {})
check(ann.get("container.apparmor.security.beta.kubernetes.io/" + c["name"])
      == "localhost/ritma-sensor", "AppArmor annotation for the container")
volumes = {v["name"]: v for v in pod["volumes"]}
mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
for path in ("/var/lib/ritma", "/run/ritma/locks"):
    check(volumes.get(mounts.get(path), {}).get("hostPath", {}).get("path") == path,
          f"{path} is a hostPath mount")
check(any(m["mountPath"] == "/sys/kernel/btf" and m.get("readOnly") for m in c["volumeMounts"]),
      "/sys/kernel/btf mounted read-only")

# ---- compose
compose = yaml.safe_load(open(os.path.join(src, "deploy/docker/compose.yaml")))
svc = compose["services"]["ritma-sensor"]
check(svc.get("pid") == "host", "compose: pid: host")
check(svc.get("cap_drop") == ["ALL"], "compose: cap_drop ALL")
check(sorted(svc.get("cap_add", [])) == caps, f"compose: cap_add exactly {caps}")
check(svc.get("read_only") is True, "compose: read_only: true")
check(not svc.get("privileged"), "compose: not privileged")
check("no-new-privileges:true" in svc.get("security_opt", []), "compose: no-new-privileges")
check(any(t.startswith("/run/ritma/locks") for t in svc.get("tmpfs", [])),
      "compose: tmpfs for /run/ritma/locks")
check("RITMA_NODE_ID" in svc.get("environment", {}), "compose: RITMA_NODE_ID")
targets = {v["target"]: v for v in svc.get("volumes", []) if isinstance(v, dict)}
check("/var/lib/ritma" in targets, "compose: data volume at /var/lib/ritma")
check(targets.get("/sys/kernel/btf", {}).get("read_only") is True, "compose: /sys/kernel/btf ro")
check(svc["build"]["dockerfile"] == "deploy/docker/Dockerfile", "compose: builds the Dockerfile")
dockerfile = open(os.path.join(src, "deploy/docker/Dockerfile")).read()
check(re.search(r"^FROM debian:12\S* AS build", dockerfile, re.M) is not None,
      "Dockerfile: Debian 12 build stage")
check(re.search(r"^FROM debian:12-slim$", dockerfile, re.M) is not None,
      "Dockerfile: Debian 12 slim runtime stage")

if failures:
    for f in failures:
        print("FAIL:", f)
    sys.exit(1)
print(f"PASS: DaemonSet and compose parse; capabilities {caps}, node id, read-only root, "
      "AppArmor")
