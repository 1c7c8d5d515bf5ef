#!/usr/bin/env node
// What chunking costs and what a resume saves, against Debian's docker-registry on loopback:
// one 48 MiB blob pushed with @ghcr/client as one streamed PUT and in PATCH chunks of 8 and 16 MiB,
// each without a fault and with one connection reset part-way through an upload request (the
// seeded fault proxy of @ghcr/test-support cuts it at 20–80 % of its body). Reports wall time
// (median of 3) and the bytes sent in upload request bodies. Run after `pnpm build`:
//   node scripts/measure-upload-resume.mjs
import { randomBytes } from 'node:crypto';
import { startDockerRegistry, startFaultProxy } from '@ghcr/test-support';

// The client is not a dependency of the root package: read its build, as bench/ghcr-lib.mjs does.
const { createGhcrClient } = await import(new URL('../packages/client/dist/index.js', import.meta.url).href);

const MiB = 1024 * 1024;
const SIZE = 48 * MiB;
const RUNS = 3;
const layouts = [
  { name: 'one PUT', chunkSize: 64 * MiB, monolithicThreshold: 1024 * MiB },
  { name: 'PATCH 16 MiB', chunkSize: 16 * MiB, monolithicThreshold: 0 },
  { name: 'PATCH 8 MiB', chunkSize: 8 * MiB, monolithicThreshold: 0 },
];
const registry = await startDockerRegistry();
const rows = [];
try {
  for (const layout of layouts) {
    for (const fault of [false, true]) {
      const times = [];
      let sent = 0;
      const actions = [];
      for (let run = 0; run < RUNS; run++) {
        const proxy = await startFaultProxy({
          target: registry.url,
          seed: run + 1,
          rate: 0,
          ...(fault
            ? {
                always: {
                  kind: 'reset-request',
                  // The second upload request with a body (the PUT, or the second PATCH).
                  match: (method, path) =>
                    (method === 'PUT' || method === 'PATCH') && path.includes('/blobs/uploads/'),
                  times: 1,
                },
              }
            : {}),
        });
        let bytes = 0;
        const client = createGhcrClient({
          registry: proxy.host,
          plainHttp: true,
          chunkSize: layout.chunkSize,
          monolithicThreshold: layout.monolithicThreshold,
          transportOptions: {
            middleware: [
              {
                name: 'count',
                after: 'redirect',
                middleware: (next) => async (request, context) => {
                  if (request.method === 'PUT' || request.method === 'PATCH')
                    bytes += request.contentLength ?? 0;
                  return next(request, context);
                },
              },
            ],
          },
        });
        client.events.on('retry', (event) => actions.push(event.action));
        const blob = randomBytes(SIZE);
        const started = performance.now();
        await client.blobs.upload(`m/measure-${layout.chunkSize}-${fault}-${run}`, blob);
        times.push(performance.now() - started);
        sent += bytes;
        await client.close();
        await proxy.close();
      }
      times.sort((a, b) => a - b);
      rows.push({
        upload: layout.name,
        fault: fault ? 'one reset' : 'none',
        'median ms': Math.round(times[Math.floor(RUNS / 2)]),
        'MiB sent (mean)': (sent / RUNS / MiB).toFixed(1),
        after: fault ? [...new Set(actions)].join(',') : '',
      });
    }
  }
} finally {
  await registry.stop();
}
console.table(rows);
