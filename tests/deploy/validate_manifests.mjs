// Validates Kubernetes objects against the Kubernetes API's JSON schemas, offline: the schemas
// ship compiled in the kubernetes-models package (@kubernetes-models/validate runs them).
//
//   node validate_manifests.mjs < objects.json      (a JSON array of objects)
//
// Prints one line per object ("ok Kind/name" or "invalid Kind/name: errors") and exits 1 if any
// object is invalid or of a kind the package does not know. The schemas do not forbid unknown
// fields (neither does Kubernetes' OpenAPI document); they check types, required fields, enums
// and formats.
import { readFileSync } from "node:fs";

// apps/v1 Deployment -> kubernetes-models/apps/v1/Deployment; core v1 Service -> .../v1/Service.
function modulePath({ apiVersion, kind }) {
  return `kubernetes-models/${apiVersion}/${kind}`;
}

const objects = JSON.parse(readFileSync(0, "utf8"));
let failures = 0;
for (const object of objects) {
  const name = `${object.kind}/${object.metadata?.name}`;
  let Model;
  try {
    ({ [object.kind]: Model } = await import(modulePath(object)));
  } catch (error) {
    const why = error.code ?? error.message;
    console.log(`invalid ${name}: no schema for ${object.apiVersion} ${object.kind} (${why})`);
    failures++;
    continue;
  }
  try {
    new Model(object).validate();
    console.log(`ok ${name}`);
  } catch (error) {
    console.log(`invalid ${name}: ${error.message.replaceAll("\n", "; ")}`);
    failures++;
  }
}
process.exit(failures ? 1 : 0);
