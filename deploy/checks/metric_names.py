"""Every Grafana dashboard is valid JSON, and every metric name in a dashboard query or an alert
rule is in checks/metrics.yaml (served by loglynk or an exporter deployed here) or recorded by a
recording rule in RULES_DIR.

Usage: metric_names.py METRICS_YAML RULES_DIR DASHBOARDS_DIR
"""
import json
import pathlib
import re
import sys

import yaml

from common import report, rules

# PromQL words that look like metric names but are not.
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool",
            "and", "or", "unless", "inf", "nan"}


def metric_names(expr):
    """The metric names an expression selects: identifiers that are not functions, keywords,
    label names (in {...} and by/without/on/ignoring (...)), durations or strings."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', expr)   # strings
    e = re.sub(r"\{[^}]*\}", "", e)                                      # label matchers
    e = re.sub(r"\[[^\]]*\]", "", e)                                     # ranges, subqueries
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", e)
    names = set()
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", e):
        before = e[m.start() - 1] if m.start() else " "
        if before.isdigit() or before in ".$":                           # 1e3, 5m, $node
            continue
        if m.group(0) in KEYWORDS or e[m.end():].lstrip().startswith("("):
            continue
        names.add(m.group(0))
    return names


def dashboard_queries(node):
    """(where, expr) for every Prometheus query in a dashboard: panel targets and variables."""
    if isinstance(node, dict):
        if isinstance(node.get("expr"), str):
            yield node.get("refId", "?"), node["expr"]
        q = node.get("query")
        if isinstance(q, dict) and isinstance(q.get("query"), str):
            yield "variable " + node.get("name", "?"), q["query"]
        for v in node.values():
            yield from dashboard_queries(v)
    elif isinstance(node, list):
        for v in node:
            yield from dashboard_queries(v)


def main(metrics_yaml, rules_dir, dashboards_dir):
    sources = yaml.safe_load(pathlib.Path(metrics_yaml).read_text())
    known = {m: src for src, entry in sources.items() for m in entry["metrics"]}
    recorded = {rule["record"] for _, rule in rules(rules_dir) if "record" in rule}
    clash = sorted(recorded & known.keys())
    known.update((name, "recording rule") for name in recorded)
    used, errors = set(), [f"{name}: recorded by a rule and listed in checks/metrics.yaml" for name in clash]

    def check(where, expr):
        # label_values(metric, label): the metric is the first argument.
        lv = re.fullmatch(r"\s*label_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*)\s*(?:[,{].*)?\)\s*", expr)
        names = {lv.group(1)} if lv else metric_names(expr)
        for name in sorted(names):
            used.add(name)
            if name not in known:
                errors.append(f"{where}: {name} is served by nothing in checks/metrics.yaml")

    for path, rule in rules(rules_dir):
        check(f"{path.name} {rule.get('alert') or rule.get('record')}", rule["expr"])

    dashboards = sorted(pathlib.Path(dashboards_dir).glob("*.json"))
    for path in dashboards:
        try:
            board = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            errors.append(f"{path.name}: not valid JSON: {err}")
            continue
        for where, expr in dashboard_queries(board.get("panels", []) + [board.get("templating", {})]):
            check(f"{path.name} {where}", expr)

    for src, entry in sources.items():
        if not entry.get("complete"):
            for name in entry["metrics"]:
                if name not in used:
                    errors.append(f"checks/metrics.yaml: {src} {name} is used by no rule or dashboard")

    return report(errors,
                  f"{len(used)} metric names in {len(dashboards)} dashboards and the rules, all served")


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
