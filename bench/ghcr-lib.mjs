#!/usr/bin/env node
// A stand-in for `ghcr push/pull/copy` built on the library, used by the harness when the CLI does
// not have those commands (or with GHCR_BENCH_IMPL=lib). It does what the CLI does: one client per
// registry with default options, then client.images.push / pull / copy.
//   node bench/ghcr-lib.mjs push <registry/repo:tag> <layout-dir>
//   node bench/ghcr-lib.mjs pull <registry/repo:tag> <dir>
//   node bench/ghcr-lib.mjs copy <registry/repo:tag> <registry/repo:tag>
// Prints one JSON line: what moved, and this process's peak RSS (getrusage).
// GHCR_BENCH_CLIENT_OPTIONS='{"monolithicThreshold":1073741824}' passes client options, to try a
// setting against the defaults (the harness itself never sets it: it times the defaults).
import { pathToFileURL } from 'node:url';
import { setting } from './lib/env.mjs';

const dist = setting('GHCR_CLIENT_DIST')
  ? pathToFileURL(setting('GHCR_CLIENT_DIST')).href
  : new URL('../packages/client/dist/index.js', import.meta.url).href;
const { createGhcrClient } = await import(dist);

const [operation, first, second] = process.argv.slice(2);
if (operation === 'noop') {
  // Start-up only: the imports above, nothing else.
  console.log('{}');
  process.exit(0);
}
if (operation === undefined || first === undefined || second === undefined) {
  console.error('usage: ghcr-lib.mjs push|pull|copy <ref> <layout-dir|dir|ref>');
  process.exit(2);
}

/** `host:port/repo:tag` → `{ registry, rest }`. */
function split(reference) {
  const slash = reference.indexOf('/');
  return { registry: reference.slice(0, slash), rest: reference.slice(slash + 1) };
}

const extraOptions = JSON.parse(setting('GHCR_BENCH_CLIENT_OPTIONS') ?? '{}');
const clients = new Map();
const clientFor = (registry) => {
  let client = clients.get(registry);
  if (client === undefined) {
    client = createGhcrClient({ registry, ...extraOptions });
    clients.set(registry, client);
  }
  return client;
};

const start = performance.now();
let result;
if (operation === 'push') {
  const { registry, rest } = split(first);
  result = await clientFor(registry).images.push(rest, { layout: second });
} else if (operation === 'pull') {
  const { registry, rest } = split(first);
  result = await clientFor(registry).images.pull(rest, second);
} else if (operation === 'copy') {
  const from = split(first);
  const to = split(second);
  const source = clientFor(from.registry);
  result = await source.images.copy(from.rest, to.rest, {
    ...(to.registry === from.registry ? {} : { destinationClient: clientFor(to.registry) }),
  });
} else {
  console.error(`unknown operation ${operation}`);
  process.exit(2);
}
const ms = performance.now() - start;
for (const client of clients.values()) await client.close();
console.log(
  JSON.stringify({
    operation,
    ms,
    digest: result.descriptor.digest,
    transferred: result.transferred,
    mounted: result.mounted,
    skipped: result.skipped,
    bytesTransferred: result.bytesTransferred,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
  }),
);
