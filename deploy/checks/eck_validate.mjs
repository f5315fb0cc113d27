// Validates the ECK custom resources (Elasticsearch, Kibana) against ECK's CRD schemas, as
// compiled into npm's @kubernetes-models/elastic-cloud: types, enums, required fields.
// Usage: node eck_validate.mjs ECK_JSON NODE_MODULES_DIR   (from checks/manifests.py)
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [eckJson, nodeModules] = process.argv.slice(2);
const pkg = join(nodeModules, "@kubernetes-models", "elastic-cloud");
// Imported by path: ESM resolves bare names next to this file, and the package lives in the tools
// cache outside the repository.
const load = async (group, kind) => (await import(pathToFileURL(join(pkg, group, "v1", `${kind}.js`)).href))[kind];
const models = {
  "elasticsearch.k8s.elastic.co/v1/Elasticsearch": await load("elasticsearch.k8s.elastic.co", "Elasticsearch"),
  "kibana.k8s.elastic.co/v1/Kibana": await load("kibana.k8s.elastic.co", "Kibana"),
};

let failed = 0;
for (const doc of JSON.parse(readFileSync(eckJson, "utf8"))) {
  const key = `${doc.apiVersion}/${doc.kind}`;
  const name = `${doc.kind}/${doc.metadata.name}`;
  const Model = models[key];
  if (!Model) {
    console.log(`FAIL ${name}: no schema for ${key} here; add it to eck_validate.mjs`);
    failed++;
    continue;
  }
  // kubernetes-models reuses its PersistentVolumeClaim model for volumeClaimTemplates, and that
  // model requires apiVersion and kind; ECK's CRD does not (a claim template has neither in ECK's
  // examples). Fill them in rather than fail on the model's stricter copy.
  for (const nodeSet of doc.spec?.nodeSets ?? []) {
    for (const claim of nodeSet.volumeClaimTemplates ?? []) {
      claim.apiVersion ??= "v1";
      claim.kind ??= "PersistentVolumeClaim";
    }
  }
  try {
    new Model(doc).validate();
    console.log(`ok   ${name} against ${key}`);
  } catch (err) {
    console.log(`FAIL ${name}: ${err.message}`);
    failed++;
  }
}
process.exit(failed ? 1 : 0);
