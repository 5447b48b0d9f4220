// A gRPC health client that is not ours: the grpc-health-check package's service definition with
// @grpc/grpc-js (installed by `npm ci` from package-lock.json here).
//
//   node health_check.mjs HOST:PORT SERVICE...          Check each service once
//   node health_check.mjs --watch HOST:PORT SERVICE...  Watch them until the streams end
//
// Check prints one JSON object: each service's status (SERVING, NOT_SERVING...), or the name of
// the gRPC error the check failed with (NOT_FOUND for a service the server does not know,
// UNAVAILABLE when nothing answers). Watch prints a JSON line {service, status} for every
// update the server sends, then {service, end} with the code the stream ended with.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const grpc = require('@grpc/grpc-js');
const { service } = require('grpc-health-check');

const watching = process.argv[2] === '--watch';
const [target, ...services] = process.argv.slice(watching ? 3 : 2);
const HealthClient = grpc.makeGenericClientConstructor(service, 'grpc.health.v1.Health');
const client = new HealthClient(target, grpc.credentials.createInsecure());
const codeNames = Object.fromEntries(Object.entries(grpc.status).map(([k, v]) => [v, k]));

function check(name) {
  return new Promise((resolve) => {
    const deadline = new Date(Date.now() + 2000);
    client.check({ service: name }, { deadline }, (error, response) => {
      resolve(error ? codeNames[error.code] || String(error.code) : response.status);
    });
  });
}

function watch(name) {
  return new Promise((resolve) => {
    const call = client.watch({ service: name });
    call.on('data', (response) => {
      console.log(JSON.stringify({ service: name, status: response.status }));
    });
    call.on('error', (error) => {
      console.log(JSON.stringify({ service: name, end: codeNames[error.code] }));
      resolve();
    });
    call.on('end', () => {
      console.log(JSON.stringify({ service: name, end: 'OK' }));
      resolve();
    });
  });
}

if (watching) {
  await Promise.all(services.map(watch));
} else {
  const result = {};
  for (const name of services) result[name] = await check(name);
  console.log(JSON.stringify(result));
}
client.close();
