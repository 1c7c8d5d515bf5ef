import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { describeWithBinaries } from '../vitest.js';
import { namespaceAvailability } from './network-namespace.js';
import { runWithRealNames } from './real-names.js';

const probe = fileURLToPath(new URL('./scenarios/probe.scenario.ts', import.meta.url));
const urls = [
  'https://ghcr.io/v2/',
  'https://api.github.com/user',
  'https://registry-1.docker.io/v2/',
  'https://example.com/',
];

describeWithBinaries(namespaceAvailability(), 'the real-names harness', () => {
  it('serves ghcr.io and api.github.com on 443 with a certificate the child trusts, and nothing else', async () => {
    const run = await runWithRealNames<{
      answers: { url: string; status?: number; authenticate?: string; error?: string }[];
      outside: string;
    }>({
      scenario: probe,
      input: urls,
    });
    expect(run.result.answers).toEqual([
      { url: urls[0], status: 401, authenticate: expect.stringContaining('realm="https://ghcr.io/token"') },
      { url: urls[1], status: 401 },
      // In the hosts file and the certificate, but no stand-in runs for it (no dockerhub profile).
      { url: urls[2], status: 421 },
      // Not in the hosts file: no address, and no network to ask.
      { url: urls[3], error: expect.stringMatching(/^(ENOTFOUND|EAI_AGAIN)/) },
    ]);
    expect(run.result.outside).toMatch(/^127\.0\.0\.1\s+ghcr\.io.*\nexample\.com: no address\n$/s);
    expect(
      run.requests.map(
        (entry) => `${entry.method} ${entry.serverName} ${entry.host}${entry.path} ${entry.status}`,
      ),
    ).toEqual([
      'GET ghcr.io ghcr.io/v2/ 401',
      'GET api.github.com api.github.com/user 401',
      'GET registry-1.docker.io registry-1.docker.io/v2/ 421',
    ]);
  });

  it('without the test CA, TLS verification fails', async () => {
    const run = await runWithRealNames<{ answers: { error?: string }[] }>({
      scenario: probe,
      input: urls.slice(0, 1),
      trustTestCa: false,
    });
    expect(run.result.answers[0]?.error).toMatch(
      /^UNABLE_TO_VERIFY_LEAF_SIGNATURE|^UNABLE_TO_GET_ISSUER_CERT_LOCALLY|^SELF_SIGNED_CERT_IN_CHAIN/,
    );
    expect(run.requests).toEqual([]);
  });
});
