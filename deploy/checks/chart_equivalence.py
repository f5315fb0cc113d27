"""The chart renders what the kustomization builds: the DaemonSet's and the bootstrap Job's pod
specs (security contexts, mounts, probes, env, ports, image, resources, init containers,
tolerations, priority), the scrape annotations, the RBAC rules and the PriorityClass.

Only what the two tools name differently is set aside: a hashed ConfigMap name (kustomize's default,
turned off here so agents reload an edited config live) against the chart's opt-in checksum
annotation, the chart's extra labels, and the Job's name (the chart adds the release revision).
Anything else that differs is reported, field by field.

Usage: chart_equivalence.py KUSTOMIZE_YAML HELM_YAML
"""
import re
import sys

import yaml

from common import report

HASHED_CONFIGMAP = re.compile(r"^(loglynk-config)-[a-z0-9]{10}$")


def objects(path):
    with open(path) as f:
        return {(d["kind"], d["metadata"]["name"]): d for d in yaml.safe_load_all(f) if d}


def pod_spec(workload):
    spec = yaml.safe_load(yaml.safe_dump(workload["spec"]["template"]["spec"]))  # a deep copy
    for volume in spec.get("volumes", []):
        if "configMap" in volume:
            volume["configMap"]["name"] = HASHED_CONFIGMAP.sub(r"\1", volume["configMap"]["name"])
    return spec


def scrape_annotations(workload):
    annotations = workload["spec"]["template"]["metadata"].get("annotations", {})
    return {k: v for k, v in annotations.items() if k.startswith("prometheus.io/")}


def by_name(path, items):
    """A list of uniquely named objects, other than env (where order matters to $(VAR))."""
    if not isinstance(items, list) or path.endswith(".env"):
        return False
    names = [i.get("name") for i in items if isinstance(i, dict)]
    return len(names) == len(items) and None not in names and len(set(names)) == len(names)


def diff(path, expected, actual, out):
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in sorted(expected.keys() | actual.keys()):
            if key not in actual:
                out.append(f"{path}.{key}: only in kustomize ({expected[key]!r})")
            elif key not in expected:
                out.append(f"{path}.{key}: only in the chart ({actual[key]!r})")
            else:
                diff(f"{path}.{key}", expected[key], actual[key], out)
    elif by_name(path, expected) and by_name(path, actual):
        # Volumes, mounts, containers: their order means nothing (kustomize's patches prepend).
        diff(path, {e["name"]: e for e in expected}, {a["name"]: a for a in actual}, out)
    elif isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        for i, (e, a) in enumerate(zip(expected, actual)):
            name = e.get("name", i) if isinstance(e, dict) else i
            diff(f"{path}[{name}]", e, a, out)
    elif expected != actual:
        out.append(f"{path}: kustomize {expected!r}, chart {actual!r}")


def named(objs, kind, prefix):
    found = [o for (k, n), o in objs.items() if k == kind and n.startswith(prefix)]
    return found[0] if len(found) == 1 else None


def main(kustomize_yaml, helm_yaml):
    kust, helm = objects(kustomize_yaml), objects(helm_yaml)
    errors = []
    pairs = [("DaemonSet", "loglynk"), ("Job", "loglynk-bootstrap"), ("ClusterRole", ""),
             ("PriorityClass", "loglynk-node-critical"), ("ServiceAccount", "loglynk")]
    for kind, prefix in pairs:
        k, h = named(kust, kind, prefix), named(helm, kind, prefix)
        if k is None or h is None:
            errors.append(f"{kind} {prefix}: kustomize has {k is not None}, the chart {h is not None}")
            continue
        where = f"{kind}/{prefix or k['metadata']['name']}"
        if kind in ("DaemonSet", "Job"):
            diff(f"{where} pod spec", pod_spec(k), pod_spec(h), errors)
            diff(f"{where} scrape annotations", scrape_annotations(k), scrape_annotations(h), errors)
            if kind == "DaemonSet":
                for field in ("selector", "updateStrategy"):
                    diff(f"{where} {field}", k["spec"][field], h["spec"][field], errors)
            else:
                for field in ("backoffLimit", "ttlSecondsAfterFinished"):
                    diff(f"{where} {field}", k["spec"][field], h["spec"][field], errors)
        elif kind == "ClusterRole":
            diff(f"{where} rules", k["rules"], h["rules"], errors)
        elif kind == "PriorityClass":
            for field in ("value", "preemptionPolicy", "globalDefault"):
                diff(f"{where} {field}", k.get(field), h.get(field), errors)
    ds = named(helm, "DaemonSet", "loglynk")
    init = len(ds["spec"]["template"]["spec"].get("initContainers", [])) if ds else 0
    return report(errors, f"the chart's DaemonSet ({init} init containers), Job, RBAC and "
                          "PriorityClass equal the kustomization's")


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
