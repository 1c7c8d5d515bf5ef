#!/usr/bin/env node
// Streams 256 MiB each way through the in-process dispatcher and reports MiB/s and peak RSS.
// Build first (`npx tsup` in packages/simulation), then: node bench/dispatcher-throughput.mjs [MiB]
// Not a test: numbers depend on the machine.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpResponse, http } from 'msw';
import { request } from 'undici';
import { createSimulation } from '../dist/index.js';

const MIB = 1024 * 1024;
const total = Number(process.argv[2] ?? 256) * MIB;
const chunkSize = MIB;

let peakRss = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
}, 20);
const sample = () => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
};

// A rotating pool of chunk buffers: the body is produced without allocating 256 MiB of fresh
// memory (which would measure page faults and GC, not the dispatcher). Safe because every consumer
// here is done with a chunk before the next one is pulled (backpressure), except the memory store,
// which keeps chunks: it gets fresh buffers.
const pool = Array.from({ length: 8 }, (_, i) => Buffer.alloc(chunkSize, i + 1));
async function* source(bytes, fresh = false) {
  let i = 0;
  for (let sent = 0; sent < bytes; sent += chunkSize, i++) {
    const size = Math.min(chunkSize, bytes - sent);
    const chunk = fresh ? Buffer.from(pool[i % pool.length]) : pool[i % pool.length];
    yield size === chunkSize ? chunk : chunk.subarray(0, size);
  }
}

async function drain(body, hash) {
  let received = 0;
  for await (const chunk of body) {
    received += chunk.byteLength;
    hash?.update(chunk);
  }
  return received;
}

function report(label, bytes, ms) {
  sample();
  const rate = bytes / MIB / (ms / 1000);
  console.log(
    `${label.padEnd(46)} ${(bytes / MIB).toFixed(0)} MiB in ${ms.toFixed(0)} ms = ${rate.toFixed(0)} MiB/s (peak RSS so far ${(peakRss / MIB).toFixed(0)} MiB)`,
  );
}

const RUNS = 3;
async function timed(label, bytes, work) {
  const times = [];
  for (let run = 0; run < RUNS; run++) {
    const start = performance.now();
    await work();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  report(`${label} (median of ${RUNS})`, bytes, times[Math.floor(RUNS / 2)]);
}

// 1. The dispatcher alone: msw handlers that sink an upload (counting) and source a download.
{
  const sim = createSimulation({ profile: 'distribution' });
  sim.handlers.unshift(
    http.put('https://bench.invalid/sink', async ({ request: incoming }) => {
      let received = 0;
      for await (const chunk of incoming.body) received += chunk.byteLength;
      return HttpResponse.json({ received });
    }),
    http.get('https://bench.invalid/source', () => {
      let sent = 0;
      const stream = new ReadableStream(
        {
          pull(controller) {
            if (sent >= total) return controller.close();
            const size = Math.min(chunkSize, total - sent);
            controller.enqueue(pool[(sent / chunkSize) % pool.length].subarray(0, size));
            sent += size;
          },
        },
        { highWaterMark: 0 },
      );
      return new HttpResponse(stream, { headers: { 'content-length': String(total) } });
    }),
  );
  const dispatcher = sim.dispatcher();
  await timed('dispatcher only: upload (handler counts)', total, async () => {
    const response = await request('https://bench.invalid/sink', {
      method: 'PUT',
      body: source(total),
      dispatcher,
    });
    const { received } = await response.body.json();
    if (received !== total) throw new Error(`sink received ${received}`);
  });
  await timed('dispatcher only: download (client counts)', total, async () => {
    const response = await request('https://bench.invalid/source', { dispatcher });
    const received = await drain(response.body);
    if (received !== total) throw new Error(`received ${received}`);
  });
}

// 2. The registry: streamed PATCH upload hashed into the store, then blob GET, client hashing too.
for (const kind of ['disk', 'memory']) {
  const directory = kind === 'disk' ? mkdtempSync(join(tmpdir(), 'ghcr-sim-bench-')) : undefined;
  const sim = createSimulation({
    profile: 'distribution',
    store: kind === 'disk' ? { kind, directory } : { kind },
  });
  const pat = sim.createToken({ user: 'bench', scopes: ['read:packages', 'write:packages'] });
  const tokenResponse = await request(
    `${sim.options.registryUrl}/token?scope=repository:bench/blob:pull,push`,
    {
      headers: { authorization: `Basic ${Buffer.from(`x:${pat}`).toString('base64')}` },
      dispatcher: sim.dispatcher(),
    },
  );
  const { token } = await tokenResponse.body.json();
  const auth = { authorization: `Bearer ${token}` };
  const dispatcher = sim.dispatcher();
  const expected = createHash('sha256');
  for await (const chunk of source(total)) expected.update(chunk);
  const fresh = kind === 'memory';
  const digest = `sha256:${expected.digest('hex')}`;
  await timed(`registry (${kind} store): streamed PATCH + PUT`, total, async () => {
    const started = await request(`${sim.options.registryUrl}/v2/bench/blob/blobs/uploads/`, {
      method: 'POST',
      headers: auth,
      dispatcher,
    });
    await started.body.dump();
    const location = new URL(started.headers.location, sim.options.registryUrl);
    const patched = await request(location, {
      method: 'PATCH',
      headers: auth,
      body: source(total, fresh),
      dispatcher,
    });
    await patched.body.dump();
    if (patched.statusCode !== 202) throw new Error(`PATCH answered ${patched.statusCode}`);
    const closing = new URL(patched.headers.location, sim.options.registryUrl);
    closing.searchParams.set('digest', digest);
    const put = await request(closing, { method: 'PUT', headers: auth, dispatcher });
    await put.body.dump();
    if (put.statusCode !== 201) throw new Error(`PUT answered ${put.statusCode}`);
  });
  await timed(`registry (${kind} store): blob GET + client sha256`, total, async () => {
    const response = await request(`${sim.options.registryUrl}/v2/bench/blob/blobs/${digest}`, {
      headers: auth,
      dispatcher,
    });
    const hash = createHash('sha256');
    const received = await drain(response.body, hash);
    if (received !== total || `sha256:${hash.digest('hex')}` !== digest) throw new Error('download mismatch');
  });
  sim.reset();
  if (directory !== undefined) rmSync(directory, { recursive: true, force: true });
}

clearInterval(sampler);
sample();
console.log(`peak RSS ${(peakRss / MIB).toFixed(0)} MiB (node ${process.version})`);
