"""Splits `kubectl kustomize deploy/` for the validators: core objects to core.yaml (for
kubernetes-validate), ECK custom resources to eck.json (for eck_validate.mjs).

The ECK CRDs leave podTemplate unchecked (x-kubernetes-preserve-unknown-fields): ECK merges it into
the StatefulSet or Deployment it builds, so a typo there fails only in the cluster. Each
podTemplate is therefore also written to core.yaml as a v1 PodTemplate, and each
volumeClaimTemplate as a PersistentVolumeClaim, for kubernetes-validate's strict check.

Usage: manifests.py BUILD_YAML OUT_DIR
"""
import json
import pathlib
import sys

import yaml

ECK_GROUPS = ("elasticsearch.k8s.elastic.co/", "kibana.k8s.elastic.co/")


def derived(cr):
    """Core objects embedded in an ECK resource, named after where they came from."""
    name = cr["metadata"]["name"]
    spec = cr["spec"]
    templates = [(f"{name}-{ns['name']}", ns) for ns in spec.get("nodeSets", [])] or [(name, spec)]
    for tname, holder in templates:
        if "podTemplate" in holder:
            template = holder["podTemplate"]
            # ECK fills in the image; the schema requires one.
            for c in template.get("spec", {}).get("containers", []):
                c.setdefault("image", "placeholder.invalid/filled-by-eck")
            yield {"apiVersion": "v1", "kind": "PodTemplate",
                   "metadata": {"name": tname, "namespace": cr["metadata"].get("namespace")},
                   "template": template}
        for claim in holder.get("volumeClaimTemplates", []):
            yield {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                   "metadata": {**claim["metadata"], "name": f"{tname}-{claim['metadata']['name']}"},
                   "spec": claim["spec"]}


def main(build_yaml, out_dir):
    docs = [d for d in yaml.safe_load_all(pathlib.Path(build_yaml).read_text()) if d]
    core, eck = [], []
    for doc in docs:
        if doc["apiVersion"].startswith(ECK_GROUPS):
            eck.append(doc)
            core.extend(derived(doc))
        else:
            core.append(doc)
    out = pathlib.Path(out_dir)
    (out / "core.yaml").write_text(yaml.safe_dump_all(core, sort_keys=False))
    (out / "eck.json").write_text(json.dumps(eck))
    print(f"{len(docs)} objects: {len(docs) - len(eck)} core, {len(eck)} ECK "
          f"(+{len(core) - len(docs) + len(eck)} core objects embedded in them)")


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
