import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { DOCKER_HUB_HOSTS, namespaceAvailability, runWithRealNames, secretForms } from '@ghcr/test-support';
import { describeWithBinaries } from '@ghcr/test-support/vitest';
import { expect, it } from 'vitest';
import type { HubMirrorInput, HubMirrorResult } from './testing/hub-mirror.scenario.js';

// Docker Hub → GHCR with one client on its defaults, against stand-ins served under the real names
// (registry-1.docker.io, auth.docker.io, production.cloudflare.docker.com; ghcr.io, api.github.com,
// pkg-containers.githubusercontent.com) over TLS on port 443 in a private network namespace.

const scenario = fileURLToPath(new URL('./testing/hub-mirror.scenario.ts', import.meta.url));
const BLOB_HOSTS = ['production.cloudflare.docker.com', 'pkg-containers.githubusercontent.com'];

describeWithBinaries(
  namespaceAvailability(),
  'the library mirrors Docker Hub into ghcr.io by their real names',
  () => {
    it('copies docker.io/library/alpine:3 to ghcr.io/octo-org/alpine:3 with one client; Hub pulls are anonymous', async () => {
      const actor = 'octocat';
      const token = `ghp_${randomBytes(18).toString('hex')}`;
      const input: HubMirrorInput = { actor, token };
      const run = await runWithRealNames<HubMirrorResult>({
        scenario,
        input,
        profiles: ['ghcr', 'dockerhub'],
        env: { GITHUB_TOKEN: token },
        secrets: secretForms('GitHub token', token, actor),
      });
      const { result } = run;
      expect(result.copied).toEqual({
        digest: result.sourceDigest,
        registry: 'ghcr.io',
        repository: 'octo-org/alpine',
      });
      expect(result.inspected).toEqual({
        digest: result.sourceDigest,
        platforms: ['linux/amd64', 'linux/arm64/v8'],
      });

      // Credentials reach only their own registry: no request to Hub or to a blob host carried the
      // GitHub token in any form, in any header; Hub's token requests carried no credentials at all.
      const hubOrBlob = run.requests.filter(
        (entry) => DOCKER_HUB_HOSTS.includes(entry.host) || BLOB_HOSTS.includes(entry.host),
      );
      expect(hubOrBlob.length).toBeGreaterThan(0);
      expect(hubOrBlob.filter((entry) => entry.secretsSeen.length > 0)).toEqual([]);
      const tokenRequests = result.copyRequests.filter((entry) => entry.host === 'auth.docker.io');
      expect(tokenRequests.map((entry) => entry.authorization)).toEqual(tokenRequests.map(() => ''));
      // Docker Hub is reached at its API host only, never at the names people write.
      expect(
        run.requests.filter((entry) =>
          ['docker.io', 'index.docker.io', 'www.docker.com'].includes(entry.host),
        ),
      ).toEqual([]);

      const count = (predicate: (entry: (typeof result.copyRequests)[number]) => boolean): number =>
        result.copyRequests.filter(predicate).length;
      const registry = (entry: { host: string }): boolean => entry.host === 'registry-1.docker.io';
      const manifest = (entry: { host: string; path: string }): boolean =>
        registry(entry) && entry.path.includes('/manifests/');
      const counts = {
        tokenRequests: tokenRequests.length,
        manifestHeads: count((entry) => manifest(entry) && entry.method === 'HEAD'),
        manifestGets: count((entry) => manifest(entry) && entry.method === 'GET'),
        // Hub counts a pull for each manifest GET it answers: these are what the quota sees.
        manifestGetsAnswered: count(
          (entry) => manifest(entry) && entry.method === 'GET' && entry.status === 200,
        ),
        blobGets: count(
          (entry) => registry(entry) && entry.method === 'GET' && entry.path.includes('/blobs/'),
        ),
        cdnGets: count((entry) => entry.host === 'production.cloudflare.docker.com'),
        other: count(
          (entry) =>
            registry(entry) && !entry.path.includes('/manifests/') && !entry.path.includes('/blobs/'),
        ),
      };
      console.info(`Hub → GHCR mirror of a two-platform image, requests to Hub: ${JSON.stringify(counts)}`);
      // The tag asked with a HEAD first (the first is the unauthenticated one answered 401 with the
      // challenge), which Hub does not count; then the index and its two platform manifests, each
      // read once; one anonymous token; every blob once, from the CDN.
      expect(counts).toEqual({
        tokenRequests: 1,
        manifestHeads: 2,
        manifestGets: 3,
        manifestGetsAnswered: 3,
        blobGets: 4,
        cdnGets: 4,
        other: 0,
      });
      // Within Hub's quota headers: 100 anonymous pulls per 6 h window, 3 spent.
      const remaining = result.copyRequests
        .map((entry) => entry.rateLimitRemaining)
        .filter((value) => value !== '');
      expect(remaining.at(-1)).toBe('97;w=21600');
      const again = result.againRequests.filter(
        (entry) => DOCKER_HUB_HOSTS.includes(entry.host) || BLOB_HOSTS.includes(entry.host),
      );
      // Run again with nothing new on Hub: one HEAD of the tag (no pull of the quota), the token
      // still cached, no manifest read, no blob moved.
      expect(again.map((entry) => `${entry.method} ${entry.host}${entry.path} ${entry.status}`)).toEqual([
        'HEAD registry-1.docker.io/v2/library/alpine/manifests/3 200',
      ]);
      expect(
        result.againRequests.filter((entry) => entry.method === 'GET' && entry.path.includes('/manifests/')),
      ).toEqual([]);
    });
  },
);
