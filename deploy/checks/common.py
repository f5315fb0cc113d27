"""What the checks share: the rules of a Prometheus rules directory, and how a check reports."""
import pathlib

import yaml


def rules(rules_dir):
    """(path, rule) for every alerting and recording rule in RULES_DIR/*.yml, in file order."""
    for path in sorted(pathlib.Path(rules_dir).glob("*.yml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                yield path, rule


def report(errors, passed):
    """Prints each problem, then `passed` if there are none or their count; the exit status."""
    for e in errors:
        print("FAIL", e)
    print(passed if not errors else f"{len(errors)} problems")
    return 1 if errors else 0
