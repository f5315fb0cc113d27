"""Every alert has a severity Alertmanager routes, a runbook_url pointing at its runbook in
deploy/runbooks/, and a promtool unit test that expects it firing and one that expects it silent;
every alert runbook (a CamelCase name) belongs to an alert; procedures (migrate-from-filebeat.md)
are lower-case.

Usage: alerts.py RULES_DIR TESTS_DIR RUNBOOKS_DIR
"""
import pathlib
import sys

import yaml

from common import report, rules

RUNBOOK_BASE = "https://github.com/funlynk/loglynk/blob/main/deploy/runbooks/"
SEVERITIES = {"critical", "warning"}      # the routes in alertmanager/alertmanager.yml


def main(rules_dir, tests_dir, runbooks_dir):
    alerts = {rule["alert"]: rule for _, rule in rules(rules_dir) if "alert" in rule}

    firing, silent = set(), set()
    for path in sorted(pathlib.Path(tests_dir).glob("*.yml")):
        for test in yaml.safe_load(path.read_text())["tests"]:
            for case in test.get("alert_rule_test", []):
                (firing if case.get("exp_alerts") else silent).add(case["alertname"])

    errors = []
    runbooks = pathlib.Path(runbooks_dir)
    for name, rule in alerts.items():
        if rule.get("labels", {}).get("severity") not in SEVERITIES:
            errors.append(f"{name}: severity must be one of {sorted(SEVERITIES)}")
        if rule.get("annotations", {}).get("runbook_url") != f"{RUNBOOK_BASE}{name}.md":
            errors.append(f"{name}: runbook_url is not {RUNBOOK_BASE}{name}.md")
        if not (runbooks / f"{name}.md").is_file():
            errors.append(f"{name}: no runbook {runbooks_dir}/{name}.md")
        if name not in firing:
            errors.append(f"{name}: no unit test expects it to fire")
        if name not in silent:
            errors.append(f"{name}: no unit test expects it to stay silent")
    for path in sorted(runbooks.glob("*.md")):
        if path.stem[:1].isupper() and path.stem not in alerts:
            errors.append(f"{path.name}: a runbook for no alert")

    return report(errors,
                  f"{len(alerts)} alerts: each routed, with a runbook and firing and silent tests")


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
