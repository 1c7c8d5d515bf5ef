import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { namespaceAvailability, runWithRealNames, secretForms } from '@ghcr/test-support';
import { describeWithBinaries } from '@ghcr/test-support/vitest';
import { expect, it } from 'vitest';
import type { DefaultPathsInput, DefaultPathsResult } from './testing/default-paths.scenario.js';

// The library on its default paths: `createGhcrClient({ credentials: defaultCredentialChain() })`
// and GITHUB_TOKEN, against stand-ins served as ghcr.io, api.github.com and
// pkg-containers.githubusercontent.com over TLS on port 443 in a private network namespace
// (@ghcr/test-support's runWithRealNames). No registry, API URL, dispatcher or scheme is given.

const scenario = fileURLToPath(new URL('./testing/default-paths.scenario.ts', import.meta.url));
const layout = fileURLToPath(new URL('../../../fixtures/oci-layout-multi', import.meta.url));
const index = 'sha256:80512d7b0fcd9b26a1d57f543cc7e865c40a719a46bbb71bcbd57b4f52c4be84';

function runScenario(mode: DefaultPathsInput['mode'], trustTestCa = true) {
  const actor = 'octocat';
  const token = `ghp_${randomBytes(18).toString('hex')}`;
  const input: DefaultPathsInput = { mode, layout, actor, token };
  return runWithRealNames<DefaultPathsResult>({
    scenario,
    input,
    env: { GITHUB_TOKEN: token },
    secrets: secretForms('GitHub token', token, actor),
    trustTestCa,
  });
}

describeWithBinaries(namespaceAvailability(), 'the library on the default registry and API URL', () => {
  it('pushes, inspects, pulls (blobs from the blob host) and lists versions', async () => {
    const run = await runScenario('round-trip');
    expect(run.result).toMatchObject({
      mode: 'round-trip',
      pushed: index,
      inspected: { digest: index, platforms: ['linux/amd64', 'linux/arm64/v8'] },
      pulled: { digest: index, blobs: 7 },
    });
    if (run.result.mode !== 'round-trip') throw new Error('unreachable');
    expect(run.result.versions.find((version) => version.digest === index)?.tags).toEqual(['1.0.0']);
    expect(run.result.operations).toEqual(expect.arrayContaining(['blob.get', 'api.versions.list']));
    const hosts = [...new Set(run.requests.map((entry) => entry.host))].sort();
    expect(hosts).toEqual(['api.github.com', 'ghcr.io', 'pkg-containers.githubusercontent.com']);
    // Blob downloads followed GHCR's redirect to the blob host, and the token did not follow them.
    const blobHost = run.requests.filter((entry) => entry.host === 'pkg-containers.githubusercontent.com');
    expect(blobHost.length).toBeGreaterThan(0);
    expect(blobHost.filter((entry) => entry.authorization !== '' || entry.secretsSeen.length > 0)).toEqual(
      [],
    );
    // The PAT reached api.github.com as itself and ghcr.io only as GHCR's base64 form.
    const carriers = new Set(
      run.requests.flatMap((entry) => entry.secretsSeen.map((seen) => `${entry.host} ${seen.secret}`)),
    );
    expect([...carriers].sort()).toEqual(['api.github.com GitHub token', 'ghcr.io GitHub token (base64)']);
  });

  it('without the CA trusted, says the certificate is not trusted and how to add a CA', async () => {
    const run = await runScenario('untrusted', false);
    expect(run.result).toMatchObject({ mode: 'untrusted', error: { code: 'GHCR_CONNECTION_FAILED' } });
    if (run.result.mode !== 'untrusted') throw new Error('unreachable');
    expect(run.result.error.message).toContain('NODE_EXTRA_CA_CERTS=');
    expect(run.result.error.message).not.toContain('plain');
    expect(run.requests).toEqual([]);
  });
});
