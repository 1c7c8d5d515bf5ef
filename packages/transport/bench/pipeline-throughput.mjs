// Compares a 512 MiB digest-verified download through the whole transport pipeline with a bare
// `undici.request`, against a loopback HTTP server. Run after `pnpm build`:
//   node packages/transport/bench/pipeline-throughput.mjs [MiB] [runs]
// Prints MiB/s per run (alternating bare and pipeline) and the medians; not a test.
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { Agent, request } from 'undici';
import { createTransport } from '../dist/index.js';

const mib = Number(process.argv[2] ?? 512);
const runs = Number(process.argv[3] ?? 5);
const total = mib * 1024 * 1024;
const block = randomBytes(1024 * 1024);

const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(total) });
  let sent = 0;
  const pump = () => {
    while (sent < total) {
      sent += block.length;
      if (!res.write(block)) return res.once('drain', pump);
    }
    res.end();
  };
  pump();
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${server.address().port}/blob`;
const agent = new Agent({ connections: 4 });
const transport = createTransport({ dispatcher: agent });

async function drain(body) {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of body) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  if (bytes !== total) throw new Error(`short read ${bytes}`);
  return hash.digest('hex');
}
async function bare() {
  const response = await request(url, { dispatcher: agent });
  return drain(response.body);
}
async function pipeline() {
  const response = await transport.send({ operation: 'blobs.get', method: 'GET', url });
  return drain(response.body);
}
async function time(fn) {
  const start = process.hrtime.bigint();
  await fn();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return mib / seconds;
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

await time(bare);
await time(pipeline);
const results = { bare: [], pipeline: [] };
for (let i = 0; i < runs; i++) {
  results.bare.push(await time(bare));
  results.pipeline.push(await time(pipeline));
}
for (const [name, values] of Object.entries(results)) {
  console.log(
    `${name.padEnd(8)} ${values.map((v) => v.toFixed(0).padStart(5)).join(' ')}  median ${median(values).toFixed(0)} MiB/s`,
  );
}
const ratio = median(results.pipeline) / median(results.bare);
console.log(
  `pipeline/bare: ${(ratio * 100).toFixed(1)}% (${mib} MiB, sha256 while streaming, ${runs} runs each, alternating)`,
);
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
await transport.close();
await agent.close();
server.close();
