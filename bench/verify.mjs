#!/usr/bin/env node
// Verifying 100 Sigstore bundles in one process, offline, with the built client (run
// `npx turbo run build --filter=@ghcr/client...` first); prints one JSON document. Not a test:
// numbers depend on the machine.
//   node bench/verify.mjs [--count 100]
// The bundles are the published fixtures in packages/client/src/signatures/__fixtures__ (real
// public-good bundles from sigstore-js and cosign: certificate chain, SCT, Rekor entry with its
// inclusion proof or promise, DSSE signature, identity and subject checks), verified in turn from
// their JSON text (parsed anew each time, so nothing is cached between verifications). The trusted
// roots are loaded once per policy, as the gate does.
import { readFileSync } from 'node:fs';

const countAt = process.argv.indexOf('--count');
const count = countAt === -1 ? 100 : Number(process.argv[countAt + 1]);
const dist = (name) => new URL(`../packages/${name}/dist/index.js`, import.meta.url).href;
const { resolveSignaturePolicy, verifyBundle } = await import(dist('client'));
const fixture = (path) =>
  readFileSync(new URL(`../packages/client/src/signatures/__fixtures__/${path}`, import.meta.url), 'utf8');

const OAUTH = 'https://github.com/login/oauth';
const sets = [
  {
    identity: 'brian@dehamer.com',
    root: 'sigstore-js/trusted_root.json',
    bundles: ['bundleV01-intoto-with-proof', 'bundleV02-dsse', 'bundleV03-dsse', 'bundleV03-intoto'].map(
      (name) => ({ text: fixture(`sigstore-js/${name}.sigstore.json`) }),
    ),
  },
  {
    identity: 'cody@soyland.com',
    root: 'cosign/trusted_root_pgi.json',
    bundles: [
      {
        text: fixture('cosign/oci-attestation.sigstore.json'),
        digest: 'sha256:732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4',
      },
    ],
  },
];

const mib = (bytes) => Math.round((bytes / 1024 / 1024) * 10) / 10;
const before = process.memoryUsage();
const loadStart = process.hrtime.bigint();
const work = sets.flatMap((set) => {
  const policy = resolveSignaturePolicy({
    certificateIdentity: set.identity,
    certificateOidcIssuer: OAUTH,
    trustedRoot: JSON.parse(fixture(set.root)),
  });
  return set.bundles.map((bundle) => ({ ...bundle, policy }));
});
const loadMs = Number(process.hrtime.bigint() - loadStart) / 1e6;

const times = [];
let verified = 0;
const start = process.hrtime.bigint();
for (let i = 0; i < count; i++) {
  const item = work[i % work.length];
  const one = process.hrtime.bigint();
  const result = verifyBundle(
    JSON.parse(item.text),
    item.policy,
    item.digest === undefined ? {} : { digest: item.digest },
  );
  times.push(Number(process.hrtime.bigint() - one) / 1e6);
  if (result.verified) verified += 1;
  else throw new Error(`bundle ${i % work.length} did not verify: ${result.reason}`);
}
const totalMs = Number(process.hrtime.bigint() - start) / 1e6;
const after = process.memoryUsage();
const sorted = [...times].sort((a, b) => a - b);
const pick = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

console.log(
  JSON.stringify(
    {
      node: process.version,
      bundles: count,
      distinctBundles: work.length,
      verified,
      trustedRootLoadMs: Math.round(loadMs * 10) / 10,
      totalMs: Math.round(totalMs * 10) / 10,
      msPerBundle: Math.round((totalMs / count) * 100) / 100,
      firstMs: Math.round(times[0] * 100) / 100,
      medianMs: Math.round(pick(0.5) * 100) / 100,
      p95Ms: Math.round(pick(0.95) * 100) / 100,
      rssMiB: {
        before: mib(before.rss),
        after: mib(after.rss),
        peak: mib(process.resourceUsage().maxRSS * 1024),
      },
      heapUsedMiB: { before: mib(before.heapUsed), after: mib(after.heapUsed) },
    },
    null,
    2,
  ),
);
