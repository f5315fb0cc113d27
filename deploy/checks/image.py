"""The image is what the manifests expect, and its binary gives the documents the tests expect.

  config ROOTFS CONFIG_JSON IMAGE_REF MANIFEST...
      the image's entrypoint and user; its files (exactly the binary, the CA bundle, passwd and
      group, and empty mount points); every runAsUser of the manifests named in its /etc/passwd;
      every loglynk container of the manifests running IMAGE_REF
  tail EXPECTED_NDJSON < OUTPUT
      `loglynk tail --from-beginning --no-follow` over fixtures/ gave the documents of
      fixtures/expected/tail.ndjson, after the normalisation tests/cli/tail_fixtures.rs applies
"""
import json
import os
import pathlib
import sys

import yaml

from common import report

FILES = {"usr/local/bin/loglynk", "etc/ssl/certs/ca-certificates.crt", "etc/passwd", "etc/group"}


def pods(manifest_files):
    """(where, pod spec) of every workload in the files (kustomize output or plain manifests)."""
    for path in manifest_files:
        for doc in yaml.safe_load_all(pathlib.Path(path).read_text()):
            if doc and doc.get("kind") in ("DaemonSet", "Job", "Deployment"):
                yield f"{path}: {doc['kind']}/{doc['metadata']['name']}", doc["spec"]["template"]["spec"]


def check_config(rootfs, config_json, image_ref, *manifests):
    root, errors = pathlib.Path(rootfs), []
    config = json.loads(pathlib.Path(config_json).read_text())
    if config.get("Entrypoint") != ["/usr/local/bin/loglynk"]:
        errors.append(f"Entrypoint {config.get('Entrypoint')}, expected /usr/local/bin/loglynk")
    if config.get("User") != "0:0":
        errors.append(f"User {config.get('User')!r}, expected the DaemonSet's 0:0")
    files = {str(p.relative_to(root)) for p in root.rglob("*") if not p.is_dir()}
    if files != FILES:
        errors.append(f"files {sorted(files ^ FILES)} differ from {sorted(FILES)}")
    uids = {int(line.split(":")[2]) for line in (root / "etc/passwd").read_text().splitlines() if line}
    gids = {int(line.split(":")[2]) for line in (root / "etc/group").read_text().splitlines() if line}
    for where, spec in pods(manifests):
        contexts = [spec.get("securityContext", {})] + [c.get("securityContext", {})
                                                        for c in spec.get("containers", []) + spec.get("initContainers", [])]
        for ctx in contexts:
            if "runAsUser" in ctx and ctx["runAsUser"] not in uids:
                errors.append(f"{where}: runAsUser {ctx['runAsUser']} is not in the image's /etc/passwd")
            if "runAsGroup" in ctx and ctx["runAsGroup"] not in gids:
                errors.append(f"{where}: runAsGroup {ctx['runAsGroup']} is not in the image's /etc/group")
        for c in spec.get("containers", []) + spec.get("initContainers", []):
            if "loglynk" in c["image"] and c["image"] != image_ref:
                errors.append(f"{where}: container {c['name']} runs {c['image']}, the image is {image_ref}")
    return report(errors, f"image: entrypoint, user 0:0, {len(files)} files, users and image names "
                          f"of {len(manifests)} manifest files")


def normalise(doc):
    agent = doc["agent"]
    for key in ("id", "ephemeral_id", "name", "version"):
        assert agent[key], f"agent.{key} is empty"
    agent.update(id="<uuid>", ephemeral_id="<uuid>", name="<hostname>", version="<version>")
    assert doc["host"]["name"] and doc["host"]["os"]["type"] == "linux", doc["host"]
    doc["host"] = "<host>"
    flags = doc["log"].get("flags", [])
    if "unparsed" in flags or "timestamp_out_of_range" in flags:
        doc["@timestamp"] = "<read time>"
    return doc


def check_tail(expected_ndjson):
    key = lambda d: (d["log"]["file"]["path"], d["log"]["offset"])  # noqa: E731
    expected = {key(d): d for d in map(json.loads, pathlib.Path(expected_ndjson).read_text().splitlines())}
    actual = {key(d): normalise(d) for d in map(json.loads, sys.stdin.read().splitlines())}
    errors = [f"{k[0]}@{k[1]}: {'missing' if k not in actual else 'unexpected' if k not in expected else 'differs'}"
              for k in sorted(expected.keys() | actual.keys()) if expected.get(k) != actual.get(k)]
    return report(errors, f"the image's binary: {len(actual)} documents, as {os.path.basename(expected_ndjson)}")


if __name__ == "__main__":
    commands = {"config": check_config, "tail": check_tail}
    sys.exit(commands[sys.argv[1]](*sys.argv[2:]))
