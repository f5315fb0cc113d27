"""Writes loglynk.yml from the loglynk-config ConfigMap of a rendered manifest file, so
`loglynk config check` can load what the chart or the kustomization would mount.

Usage: configmap.py MANIFEST_YAML OUT_FILE
"""
import pathlib
import re
import sys

import yaml


def main(manifest, out):
    [config] = [d["data"]["loglynk.yml"] for d in yaml.safe_load_all(pathlib.Path(manifest).read_text())
                if d and d["kind"] == "ConfigMap" and re.match(r"loglynk-config(-|$)", d["metadata"]["name"])]
    pathlib.Path(out).write_text(config)


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
