#!/usr/bin/env node
// The demo: starts a local GHCR (`ghcr serve`, the simulation on real loopback sockets) and walks
// through what the `ghcr` command does, printing each command and what it answered:
// push → tag → multi-arch → copy → referrers → versions → cleanup plan → apply → gate.
// Run from the repository root after a build: `node apps/demo/demo.mjs` (the README's demo command
// builds first). Exits non-zero if any step does not behave as shown.
import { spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const bin = join(root, 'packages/cli/dist/bin.cjs');
const fixtureLayout = join(root, 'fixtures/oci-layout-multi');
const work = mkdtempSync(join(tmpdir(), 'ghcr-demo-'));
const env = { ...process.env, DOCKER_CONFIG: join(work, 'docker'), NO_COLOR: '1' };
delete env.GHCR_TOKEN;
delete env.GITHUB_TOKEN;
delete env.GH_TOKEN;

const bold = (text) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);
const dim = (text) => (process.stdout.isTTY ? `\x1b[2m${text}\x1b[0m` : text);
let step = 0;
function heading(title, why) {
  step += 1;
  console.log(`\n${bold(`${step}. ${title}`)}`);
  if (why) console.log(dim(`   ${why}`));
}

/** Runs `ghcr …`, prints the command and its output, checks the exit code, returns stdout. */
function ghcr(args, { expectExit = 0, input, show = true } = {}) {
  const shown = args.map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`));
  console.log(`$ ghcr ${shown.join(' ')}`);
  const result = spawnSync(process.execPath, [bin, ...args], { env, input, encoding: 'utf8' });
  const out = result.stdout.trimEnd();
  if (show && out !== '') console.log(out.replace(/^/gm, '  '));
  if (result.stderr.trim() !== '') console.log(result.stderr.trimEnd().replace(/^/gm, '  '));
  if (result.status !== expectExit) {
    throw new Error(`ghcr ${args[0]} exited ${result.status}, expected ${expectExit}`);
  }
  return out;
}
const json = (args, options) => JSON.parse(ghcr([...args, '--json'], { ...options, show: false }));

heading(
  'Start a local GHCR',
  'ghcr serve runs the GHCR simulation: registry, token endpoint, Packages API, signed blob host.',
);
const server = spawn(process.execPath, [bin, 'serve', '--port', '0', '--json', '--seed', 'demo'], {
  env,
  stdio: ['ignore', 'pipe', 'inherit'],
});
const served = await new Promise((resolvePromise, reject) => {
  const lines = createInterface({ input: server.stdout });
  lines.once('line', (line) => resolvePromise(JSON.parse(line)));
  server.once('exit', (code) => reject(new Error(`ghcr serve exited ${code}`)));
});
console.log(
  `$ ghcr serve --port 0 --seed demo\n  registry ${served.registry}, API ${served.apiUrl}, user ${served.user}`,
);
const registry = served.registry;
const api = ['--api-url', served.apiUrl];
const repo = `${registry}/octo-org/hello`;

try {
  heading('Log in', 'Credentials go to Docker’s config.json, as `docker login` writes them.');
  ghcr(['login', registry, '-u', served.user, '--password-stdin'], { input: `${served.token}\n` });

  heading(
    'Push an image from an OCI layout',
    'A two-platform image written by skopeo (fixtures/oci-layout-multi).',
  );
  ghcr(['push', `${repo}:1.0.0`, fixtureLayout]);

  heading('Tag it', 'The same manifest bytes under more names.');
  ghcr(['tag', `${repo}:1.0.0`, '1.0', 'latest']);
  ghcr(['tags', `${registry}/octo-org/hello`]);

  heading('Inspect the multi-arch index');
  const inspected = json(['inspect', `${repo}:1.0.0`]);
  ghcr(['inspect', `${repo}:1.0.0`]);

  heading(
    'Build a multi-arch index from platform manifests',
    'Sizes, digests and platforms are read from the registry.',
  );
  const children = (inspected.manifests ?? []).map((manifest) => manifest.digest);
  if (children.length < 2) throw new Error('expected the pushed index to list two platform manifests');
  ghcr(['index', 'create', `${repo}:multi`, ...children.map((digest) => `${repo}@${digest}`)]);

  heading('Copy inside the registry', 'Same registry: blobs are mounted, no layer bytes move.');
  ghcr(['copy', `${repo}:1.0.0`, `${registry}/octo-org/hello-mirror:1.0.0`]);

  heading(
    'Attach a vulnerability report and list referrers',
    'GHCR has no referrers API: the report is found through the sha256-<hex> tag.',
  );
  const sarif = join(work, 'scan.sarif.json');
  writeFileSync(
    sarif,
    JSON.stringify({
      version: '2.1.0',
      runs: [
        {
          tool: {
            driver: {
              name: 'Trivy',
              rules: [{ id: 'CVE-2022-3602', properties: { 'security-severity': '9.8' } }],
            },
          },
          results: [
            {
              ruleId: 'CVE-2022-3602',
              level: 'error',
              message: { text: 'Package: openssl\nInstalled Version: 3.0.1\nFixed Version: 3.0.7' },
            },
          ],
        },
      ],
    }),
  );
  ghcr(['attach', `${repo}:1.0.0`, sarif, '--artifact-type', 'application/sarif+json']);
  ghcr(['referrers', `${repo}:1.0.0`]);

  heading(
    'Gate the deployment',
    'The SARIF report is unsigned, so it does not count: blocked (exit 3, fail closed). Trusting it on purpose (--allow-unverified), the critical finding blocks; accepted, it passes.',
  );
  ghcr(['gate', `${repo}:1.0.0`, '--fail-on', 'high'], { expectExit: 3 });
  ghcr(['gate', `${repo}:1.0.0`, '--fail-on', 'high', '--allow-unverified'], { expectExit: 3 });
  ghcr(['gate', `${repo}:1.0.0`, '--fail-on', 'high', '--allow-unverified', '--ignore', 'CVE-2022-3602']);

  heading(
    'Sign the image and verify it',
    'ghcr sign writes a cosign-compatible key-based signature (sha256-<hex>.sig); ghcr verify checks it offline.',
  );
  const keyFile = (name, pair) => {
    writeFileSync(join(work, `${name}.key`), pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(join(work, `${name}.pub`), pair.publicKey.export({ type: 'spki', format: 'pem' }));
    return { ...pair, key: join(work, `${name}.key`), pub: join(work, `${name}.pub`) };
  };
  const ours = keyFile('cosign', generateKeyPairSync('ec', { namedCurve: 'P-256' }));
  const mallory = keyFile('mallory', generateKeyPairSync('ec', { namedCurve: 'P-256' }));
  ghcr(['sign', `${repo}:1.0.0`, '--key', ours.key]);
  ghcr(['verify', `${repo}:1.0.0`, '--key', ours.pub]);
  ghcr(['verify', `${repo}:1.0.0`, '--key', mallory.pub], { expectExit: 3 });

  heading(
    'A gate that cannot be fooled',
    'A clean vulnerability report signed by someone else is not counted: blocked. The same report signed with our key passes.',
  );
  const cleanReport = (signer, name) => {
    const statement = {
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: repo, digest: { sha256: inspected.digest.slice('sha256:'.length) } }],
      predicateType: 'https://cosign.sigstore.dev/attestation/vuln/v1',
      predicate: {
        scanner: {
          uri: 'pkg:github/aquasecurity/trivy@v0.50.1',
          version: '0.50.1',
          result: { SchemaVersion: 2, Results: [] },
        },
      },
    };
    const payloadType = 'application/vnd.in-toto+json';
    const payload = Buffer.from(JSON.stringify(statement));
    const pae = Buffer.concat([
      Buffer.from(`DSSEv1 ${payloadType.length} ${payloadType} ${payload.length} `),
      payload,
    ]);
    const envelope = {
      payloadType,
      payload: payload.toString('base64'),
      signatures: [{ keyid: '', sig: sign('sha256', pae, signer.privateKey).toString('base64') }],
    };
    const file = join(work, `${name}.dsse.json`);
    writeFileSync(file, JSON.stringify(envelope));
    return `${file}:application/vnd.dsse.envelope.v1+json`;
  };
  const dsseType = ['--artifact-type', 'application/vnd.dsse.envelope.v1+json'];
  ghcr(['attach', `${repo}:1.0.0`, cleanReport(mallory, 'forged'), ...dsseType]);
  ghcr(['gate', `${repo}:1.0.0`, '--fail-on', 'high', '--key', ours.pub], { expectExit: 3 });
  ghcr(['attach', `${repo}:1.0.0`, cleanReport(ours, 'signed'), ...dsseType]);
  ghcr(['gate', `${repo}:1.0.0`, '--fail-on', 'high', '--key', ours.pub]);

  heading(
    'Package versions (GitHub Packages API)',
    'Every manifest is a version; platform manifests are untagged ones.',
  );
  ghcr(['versions', 'list', 'octo-org/app', ...api]);

  heading(
    'Plan a cleanup',
    'Keep the two newest tagged images; their platform manifests, attestations and signatures stay with them.',
  );
  ghcr(['cleanup', 'octo-org/app', '--keep-n-tagged', '2', '--delete-tags', '*', ...api]);

  heading(
    'Apply it, then pull what was kept',
    'These versions were pushed seconds ago: --min-age 0 lets it delete them (by default, versions younger than 10 minutes are left alone).',
  );
  ghcr([
    'cleanup',
    'octo-org/app',
    '--keep-n-tagged',
    '2',
    '--delete-tags',
    '*',
    '--apply',
    '--min-age',
    '0',
    ...api,
  ]);
  ghcr(['pull', `${registry}/octo-org/app:latest`, join(work, 'pulled'), '--all-platforms']);
  console.log(`\n${bold('Done.')} Every kept tag still pulls completely.`);
} finally {
  server.kill('SIGTERM');
  await new Promise((resolvePromise) => server.once('exit', resolvePromise));
  rmSync(work, { recursive: true, force: true });
}
