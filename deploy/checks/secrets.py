"""No password, token or webhook URL in plain text in deploy/: credentials come from Secrets
created out of band (secretKeyRef, existingSecret, *_file settings, ${VAR} from the environment).

Flags: a Secret object; a credential-named key with a literal value; a Slack or webhook receiver
with a literal URL (the URL is the credential); an env var with a credential-like name set by
`value` instead of `valueFrom`.

Usage: secrets.py FILE...   (YAML files; multi-document files allowed)
"""
import re
import sys

import yaml

from common import report

CREDENTIAL_KEY = re.compile(r"(password|passwd|secret|token|api_?key|credentials)$", re.I)
NAMES_A_SECRET = re.compile(r"^existing", re.I)        # existingSecret: the Secret's name
CREDENTIAL_ENV = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|DATA_SOURCE_NAME|DSN", re.I)
URL_IS_SECRET = {"slack_configs": "api_url", "webhook_configs": "url", "msteams_configs": "webhook_url",
                 "discord_configs": "webhook_url"}


def literal(value):
    """A value that holds a credential itself, rather than naming where it comes from."""
    return isinstance(value, str) and value.strip() != "" and not value.startswith("${")


def walk(node, path, errors):
    if isinstance(node, dict):
        if node.get("kind") == "Secret" and ("data" in node or "stringData" in node):
            errors.append(f"{path}: a Secret with its values; create it out of band instead")
        if isinstance(node.get("name"), str) and "value" in node and CREDENTIAL_ENV.search(node["name"]):
            errors.append(f"{path}: env {node['name']} set in plain text; use valueFrom.secretKeyRef")
        for key, value in node.items():
            where = f"{path}.{key}"
            if (isinstance(key, str) and CREDENTIAL_KEY.search(key) and not NAMES_A_SECRET.match(key)
                    and literal(value)):
                errors.append(f"{where}: a credential in plain text")
            if key in URL_IS_SECRET and isinstance(value, list):
                for i, receiver in enumerate(value):
                    if isinstance(receiver, dict) and literal(receiver.get(URL_IS_SECRET[key])):
                        errors.append(f"{where}[{i}].{URL_IS_SECRET[key]}: use {URL_IS_SECRET[key]}_file")
            walk(value, where, errors)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            walk(item, f"{path}[{i}]", errors)


def main(paths):
    errors = []
    for path in paths:
        with open(path) as f:
            for n, doc in enumerate(yaml.safe_load_all(f)):
                walk(doc, f"{path}#{n}", errors)
    return report(errors, f"{len(paths)} files: no credential in plain text")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
