import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImageManifest, cosignTagsFor } from '@ghcr/manifest';
import { MediaType } from '@ghcr/oci-types';
import {
  type DemoSeed,
  pushBlob,
  pushImage,
  pushManifest,
  type SimulationServer,
  seedDemo,
  startSimulationServer,
} from '@ghcr/simulation';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../testing/io.js';
import type { GateResult } from './gate.js';
import type { SignResult } from './sign.js';
import type { VerifyResult } from './verify.js';

const REPO = 'octo-org/signed';
const VULN = 'https://cosign.sigstore.dev/attestation/vuln/v1';

let directory: string;
let server: SimulationServer;
let seed: DemoSeed;
let registry: string;
let env: Record<string, string | undefined>;
const keyFiles = { alice: { key: '', pub: '' }, mallory: { key: '', pub: '' } };
const keys: Record<'alice' | 'mallory', KeyObject> = {} as Record<'alice' | 'mallory', KeyObject>;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'ghcr-cli-verify-'));
  server = await startSimulationServer({ simulationOptions: { profile: 'ghcr' } });
  seed = await seedDemo(server.simulation);
  registry = new URL(server.url).host;
  const dockerConfig = join(directory, 'docker');
  await mkdir(dockerConfig, { recursive: true });
  const auth = Buffer.from(`octocat:${seed.tokens.all}`).toString('base64');
  await writeFile(join(dockerConfig, 'config.json'), JSON.stringify({ auths: { [registry]: { auth } } }));
  env = { HOME: directory, DOCKER_CONFIG: dockerConfig, PATH: process.env.PATH };
  for (const name of ['alice', 'mallory'] as const) {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    keys[name] = pair.privateKey;
    keyFiles[name] = { key: join(directory, `${name}.key`), pub: join(directory, `${name}.pub`) };
    await writeFile(keyFiles[name].key, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    await writeFile(keyFiles[name].pub, pair.publicKey.export({ type: 'spki', format: 'pem' }));
  }
});

afterAll(async () => {
  await server?.close();
  await rm(directory, { recursive: true, force: true });
});

const json = async <T>(argv: readonly string[], code = 0): Promise<T> => {
  const outcome = await runCli([...argv, '--json'], { env });
  expect(outcome.code, outcome.stderr).toBe(code);
  return JSON.parse(outcome.stdout) as T;
};

/** DSSE's pre-authentication encoding. */
const pae = (type: string, payload: Buffer): Buffer =>
  Buffer.concat([Buffer.from(`DSSEv1 ${type.length} ${type} ${payload.length} `), payload]);

/** `cosign attest --key --type vuln`: a key-signed DSSE layer at `sha256-<hex>.att`. */
async function attestVuln(digest: string, signer: KeyObject, critical: boolean): Promise<void> {
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: `${registry}/${REPO}`, digest: { sha256: digest.slice('sha256:'.length) } }],
    predicateType: VULN,
    predicate: {
      scanner: {
        uri: 'pkg:github/aquasecurity/trivy@v0.50.1',
        version: '0.50.1',
        result: {
          SchemaVersion: 2,
          Results: critical
            ? [
                {
                  Target: 'app',
                  Vulnerabilities: [
                    { VulnerabilityID: 'CVE-2024-0001', PkgName: 'openssl', Severity: 'CRITICAL' },
                  ],
                },
              ]
            : [],
        },
      },
    },
  };
  const payloadType = 'application/vnd.in-toto+json';
  const payload = Buffer.from(JSON.stringify(statement));
  const envelope = {
    payloadType,
    payload: payload.toString('base64'),
    signatures: [{ keyid: '', sig: sign('sha256', pae(payloadType, payload), signer).toString('base64') }],
  };
  const layer = await pushBlob(
    server.simulation,
    REPO,
    JSON.stringify(envelope),
    'application/vnd.dsse.envelope.v1+json',
  );
  const config = await pushBlob(
    server.simulation,
    REPO,
    '{"rootfs":{"type":"layers","diff_ids":[]},"config":{}}',
    MediaType.OciConfig,
  );
  pushManifest(
    server.simulation,
    REPO,
    buildImageManifest({ config, layers: [{ ...layer, annotations: { predicateType: VULN } }] }),
    cosignTagsFor(digest).attestation,
  );
}

describe('ghcr sign and ghcr verify (key-based, cosign format)', () => {
  it('signs, verifies with the key (exit 0), refuses another key (exit 3) and asks for a policy (exit 2)', async () => {
    const image = await pushImage(server.simulation, REPO, { tag: 'sig', seed: 'sig' });
    const ref = `${registry}/${REPO}:sig`;
    const signed = await json<SignResult>(['sign', ref, '--key', keyFiles.alice.key]);
    expect(signed).toMatchObject({ digest: image.digest, tag: cosignTagsFor(image.digest).signature });

    const verified = await json<VerifyResult>(['verify', ref, '--key', keyFiles.alice.pub]);
    expect(verified.verified).toBe(true);
    expect(verified.signatures).toEqual([
      expect.objectContaining({ kind: 'signature', format: 'cosign-signature', verified: true }),
    ]);
    const text = await runCli(['verify', ref, '--key', keyFiles.alice.pub], { env });
    expect(text.stdout).toMatch(
      /: verified: 1 of 1 signatures and attestations verifies \(signed by key sha256:/,
    );

    const refused = await json<VerifyResult>(['verify', ref, '--key', keyFiles.mallory.pub], 3);
    expect(refused.signatures[0]?.reason).toMatch(/^tampered or another key/);

    const none = await runCli(['verify', ref], { env });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/ghcr verify needs a signature policy: --key cosign\.pub/);

    const damaged = join(directory, 'cosign-format.key');
    await writeFile(
      damaged,
      '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n',
    );
    const noPassword = await runCli(['sign', ref, '--key', damaged], { env });
    expect(noPassword.code).toBe(2);
    expect(noPassword.stderr).toMatch(/give its password \(COSIGN_PASSWORD/);
    const unreadable = await runCli(['sign', ref, '--key', damaged], {
      env: { ...env, COSIGN_PASSWORD: 'secret' },
    });
    expect(unreadable.stderr).toMatch(/the cosign key file is (damaged|not scrypt)/);
    expect(unreadable.stderr).not.toContain('secret');
  });

  it('lists attestations with predicate type, verified with --key', async () => {
    const image = await pushImage(server.simulation, REPO, { tag: 'att', seed: 'att' });
    await attestVuln(image.digest, keys.alice, false);
    const listed = await json<VerifyResult>(['attestations', `${registry}/${REPO}:att`]);
    expect(listed.signatures).toEqual([
      expect.objectContaining({
        kind: 'attestation',
        predicateType: VULN,
        verified: false,
        signer: { type: 'key' },
      }),
    ]);
    const verified = await json<VerifyResult>([
      'attestations',
      `${registry}/${REPO}:att`,
      '--key',
      keyFiles.alice.pub,
    ]);
    expect(verified.signatures[0]).toMatchObject({ verified: true, signer: { type: 'key' } });
  });
});

describe('ghcr gate with a signature policy', () => {
  it('passes a signed clean report with the signer in --json, and blocks a forged one unless --allow-unverified', async () => {
    const good = await pushImage(server.simulation, REPO, { tag: 'good', seed: 'good' });
    await attestVuln(good.digest, keys.alice, false);
    const passed = await json<GateResult>(['gate', `${registry}/${REPO}:good`, '--key', keyFiles.alice.pub]);
    expect(passed.passed).toBe(true);
    expect(passed.reports).toEqual([
      expect.objectContaining({
        verified: true,
        signer: expect.objectContaining({ type: 'key', keyFingerprint: expect.stringMatching(/^sha256:/) }),
      }),
    ]);

    const forged = await pushImage(server.simulation, REPO, { tag: 'forged', seed: 'forged' });
    await attestVuln(forged.digest, keys.mallory, false);
    const blocked = await json<GateResult>(
      ['gate', `${registry}/${REPO}:forged`, '--key', keyFiles.alice.pub],
      3,
    );
    expect(blocked.reason).toMatch(
      /^blocked: no verified vulnerability report for sha256:[0-9a-f]{64} \(1 unverified report not counted: tampered or another key/,
    );
    expect(blocked.reason).toMatch(/or pass --allow-unverified to trust unsigned reports$/);
    const trusting = await json<GateResult>(['gate', `${registry}/${REPO}:forged`, '--allow-unverified']);
    expect(trusting.passed).toBe(true);
    // Without any policy nothing verifies: blocked.
    const noPolicy = await runCli(['gate', `${registry}/${REPO}:good`], { env });
    expect(noPolicy.code).toBe(3);
    expect(noPolicy.stdout).toMatch(
      /report sha256:[0-9a-f]{64}: unverified, signature not verified: no signature policy was given/,
    );
  });

  it('reads a --policy file whose key path is relative to it', async () => {
    const image = await pushImage(server.simulation, REPO, { tag: 'policy', seed: 'policy' });
    await attestVuln(image.digest, keys.alice, true);
    const policyDirectory = join(directory, 'policy');
    await mkdir(policyDirectory, { recursive: true });
    await writeFile(
      join(policyDirectory, 'policy.json'),
      JSON.stringify({ key: '../alice.pub', predicateType: VULN }),
    );
    const verdict = await json<GateResult>(
      ['gate', `${registry}/${REPO}:policy`, '--policy', join(policyDirectory, 'policy.json')],
      3,
    );
    expect(verdict.blocking.map((finding) => finding.id)).toEqual(['CVE-2024-0001']);
    expect(verdict.reports[0]?.verified).toBe(true);
  });
});
