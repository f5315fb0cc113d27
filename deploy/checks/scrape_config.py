"""Checks prometheus.yml, which Debian's promtool cannot read (built without
kubernetes_sd_configs): it parses as YAML, job names are unique, and every relabel regex
compiles. Then writes a copy promtool can check: service discovery replaced by a static target,
the service account's files by stand-ins, rule_files by the rules in the repository.

Regexes are compiled with Python's re, anchored as Prometheus anchors them. For what these configs
use (classes, groups, alternation, (?:...)) re and Go's RE2 agree; RE2 lacks lookaround and
backreferences, which re accepts, so those are rejected here. promtool's run on the copy then
compiles them with RE2 itself.

Usage: scrape_config.py PROMETHEUS_YML RULES_DIR OUT_DIR   (prints the copy's path)
"""
import pathlib
import re
import sys

import yaml

RE2_UNSUPPORTED = re.compile(r"\(\?[=!]|\(\?<[=!]|\\[1-9]")


def relabel_configs(job):
    for key in ("relabel_configs", "metric_relabel_configs"):
        for i, rc in enumerate(job.get(key) or []):
            yield f"{key}[{i}]", rc


def main(config_path, rules_dir, out_dir):
    config = yaml.safe_load(pathlib.Path(config_path).read_text())
    errors, seen = [], set()
    for job in config["scrape_configs"]:
        name = job["job_name"]
        if name in seen:
            errors.append(f"job {name}: job_name used twice")
        seen.add(name)
        for where, rc in relabel_configs(job):
            regex = rc.get("regex", "(.*)")
            if not isinstance(regex, str):
                errors.append(f"job {name} {where}: regex {regex!r} is not a string; quote it")
                continue
            if RE2_UNSUPPORTED.search(regex):
                errors.append(f"job {name} {where}: {regex!r} uses lookaround or a backreference (no RE2)")
            try:
                re.compile(f"^(?:{regex})$")
            except re.error as err:
                errors.append(f"job {name} {where}: {regex!r} does not compile: {err}")
    for e in errors:
        print("FAIL", e, file=sys.stderr)
    if errors:
        return 1

    out = pathlib.Path(out_dir)
    (out / "token").write_text("stand-in\n")
    (out / "ca.crt").write_text("")
    for job in config["scrape_configs"]:
        if job.pop("kubernetes_sd_configs", None) is not None:
            job["static_configs"] = [{"targets": ["sd.invalid:80"]}]
        if "bearer_token_file" in job:
            job["bearer_token_file"] = str(out / "token")
        if "ca_file" in job.get("tls_config", {}):
            job["tls_config"]["ca_file"] = str(out / "ca.crt")
    config["rule_files"] = [str(pathlib.Path(rules_dir).resolve() / "*.yml")]
    copy = out / "prometheus.static.yml"
    copy.write_text(yaml.safe_dump(config, sort_keys=False))
    print(f"{len(seen)} jobs, unique; relabel regexes compile", file=sys.stderr)
    print(copy)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
