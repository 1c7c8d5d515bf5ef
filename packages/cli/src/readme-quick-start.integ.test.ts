import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type FrontRequest, namespaceAvailability, runWithRealNames, secretForms } from '@ghcr/test-support';
import { describeWithBinaries } from '@ghcr/test-support/vitest';
import { expect, it } from 'vitest';
import type { QuickStartInput, QuickStartResult } from './testing/readme-quick-start.scenario.js';
import { BIN, requireBuiltCli } from './testing/spawn.js';

// The root README's "Quick start against ghcr.io", verbatim, with the built `ghcr` on PATH: against
// stand-ins served as ghcr.io, api.github.com and pkg-containers.githubusercontent.com, and Docker
// Hub's registry-1.docker.io, auth.docker.io and production.cloudflare.docker.com, over TLS on port
// 443 in a private network namespace (@ghcr/test-support's runWithRealNames). No --api-url,
// --plain-http or other switch: the default registry, API URL, scheme and port.

const root = new URL('../../../', import.meta.url);

/** The commands of the README's first fenced block under `heading` (comment-only lines dropped). */
function readmeCommands(heading: string): string[] {
  const readme = readFileSync(new URL('README.md', root), 'utf8');
  const start = readme.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`README.md has no "${heading}" section any more: update this test`);
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(start));
  if (block?.[1] === undefined) throw new Error(`README.md's "${heading}" has no \`\`\`sh block any more`);
  return block[1].split('\n').filter((line) => line.trim() !== '' && !line.trimStart().startsWith('#'));
}

describeWithBinaries(
  namespaceAvailability(),
  'the README quick start against ghcr.io and Docker Hub by their real names',
  () => {
    it('runs verbatim: login, push, tag, copy --referrers, gate, cleanup plan, and a mirror from Docker Hub', async () => {
      requireBuiltCli();
      const commands = readmeCommands('## Quick start against ghcr.io');
      const mirrorLine = commands.find((line) => line.startsWith('ghcr copy docker.io/'));
      expect(mirrorLine?.replace(/\s+#.*$/, '')).toBe(
        'ghcr copy docker.io/library/alpine:3 ghcr.io/octo-org/alpine:3',
      );
      expect(
        commands.filter((line) => line !== mirrorLine).map((line) => line.split(' ').slice(0, 2).join(' ')),
      ).toEqual(['echo "$GITHUB_TOKEN"', 'ghcr push', 'ghcr tag', 'ghcr copy', 'ghcr gate', 'ghcr cleanup']);
      const actor = 'octocat';
      const token = `ghp_${randomBytes(18).toString('hex')}`;
      const input: QuickStartInput = {
        commands,
        layout: fileURLToPath(new URL('fixtures/oci-layout-multi', root)),
        actor,
        token,
      };
      const run = await runWithRealNames<QuickStartResult>({
        scenario: fileURLToPath(new URL('./testing/readme-quick-start.scenario.ts', import.meta.url)),
        input,
        profiles: ['ghcr', 'dockerhub'],
        env: { GITHUB_TOKEN: token, GITHUB_ACTOR: actor, NO_COLOR: '1' },
        commands: { ghcr: BIN },
        secrets: secretForms('GitHub token', token, actor),
      });
      const { outcomes } = run.result;
      const summary = outcomes.map((outcome) => ({
        command: outcome.command,
        code: outcome.code,
        errors: outcome.stderr.split('\n').filter((line) => line.startsWith('error')),
      }));
      // gate blocks (exit 3, as the README's comment says): the image carries no vulnerability report.
      expect(summary).toEqual(
        commands.map((command) => ({ command, code: command.startsWith('ghcr gate') ? 3 : 0, errors: [] })),
      );
      const outcome = (prefix: string) => outcomes.find((candidate) => candidate.command.startsWith(prefix));
      expect(outcome('echo')?.stdout).toMatch(/^logged in to ghcr\.io as octocat /);
      const index = 'sha256:80512d7b0fcd9b26a1d57f543cc7e865c40a719a46bbb71bcbd57b4f52c4be84';
      expect(outcome('ghcr push')?.stdout).toBe(`ghcr.io/octo-org/app:1.0.0@${index}\n`);
      expect(outcome('ghcr copy ghcr.io/')?.stdout).toBe(`ghcr.io/octo-org/app-mirror:1.0.0@${index}\n`);
      expect(outcome('ghcr copy docker.io/')?.stdout).toBe(
        `ghcr.io/octo-org/alpine:3@${run.result.alpine}\n`,
      );
      expect(outcome('ghcr gate')?.stdout).toContain(
        'blocked: no verified vulnerability report for linux/amd64, linux/arm64/v8',
      );
      expect(outcome('ghcr cleanup')?.stdout).toMatch(
        /^ghcr\.io\/octo-org\/app: 3 versions, keep 3, delete 0 \(plan only/,
      );
      expect(run.result.tags).toEqual({
        'octo-org/app': ['1.0', '1.0.0', 'latest'],
        'octo-org/app-mirror': ['1.0.0'],
        'octo-org/alpine': ['3'],
      });
      // The Packages API was asked at its default URL (cleanup lists the versions there).
      expect(run.result.operations).toContain('api.versions.list');
      // Every request went to the real names on 443 (nothing else resolves in the namespace), with
      // the matching TLS server name; Docker Hub at its API host, never at docker.io.
      const hosts = [...new Set(run.requests.map((entry) => `${entry.serverName} ${entry.host}`))].sort();
      expect(hosts).toEqual([
        'api.github.com api.github.com',
        'auth.docker.io auth.docker.io',
        'ghcr.io ghcr.io',
        'production.cloudflare.docker.com production.cloudflare.docker.com',
        'registry-1.docker.io registry-1.docker.io',
      ]);
      // The GitHub token reached ghcr.io and api.github.com only: no request to Docker Hub or to a
      // blob host carried it, in any form, in any header. Hub's token was asked for anonymously.
      const carriers = new Set(
        run.requests.flatMap((entry) => entry.secretsSeen.map((seen) => `${entry.host} ${seen.secret}`)),
      );
      expect([...carriers].sort()).toEqual(['api.github.com GitHub token', 'ghcr.io GitHub token (base64)']);
      const hubTokens = run.requests.filter((entry) => entry.host === 'auth.docker.io');
      expect(hubTokens.map((entry) => entry.authorization)).toEqual(hubTokens.map(() => ''));

      // What the mirror line cost on Hub (token requests, manifest HEADs, manifest GETs, which Hub
      // counts against the pull quota when it answers them, and blobs through the CDN).
      const mirrorIndex = commands.indexOf(mirrorLine ?? '');
      const first = run.result.firstRequests[mirrorIndex] ?? 0;
      const end = run.result.firstRequests[mirrorIndex + 1] ?? Number.POSITIVE_INFINITY;
      const mirror = run.requests.filter((entry) => entry.seq >= first && entry.seq < end);
      const registry = (entry: FrontRequest): boolean => entry.host === 'registry-1.docker.io';
      const manifest = (entry: FrontRequest): boolean =>
        registry(entry) && entry.path.includes('/manifests/');
      const count = (predicate: (entry: FrontRequest) => boolean): number => mirror.filter(predicate).length;
      const counts = {
        tokenRequests: count((entry) => entry.host === 'auth.docker.io'),
        manifestHeads: count((entry) => manifest(entry) && entry.method === 'HEAD'),
        manifestGets: count((entry) => manifest(entry) && entry.method === 'GET'),
        manifestGetsAnswered: count(
          (entry) => manifest(entry) && entry.method === 'GET' && entry.status === 200,
        ),
        blobGets: count((entry) => registry(entry) && entry.path.includes('/blobs/')),
        cdnGets: count((entry) => entry.host === 'production.cloudflare.docker.com'),
      };
      console.info(
        `ghcr copy docker.io/library/alpine:3 → ghcr.io, requests to Hub: ${JSON.stringify(counts)}`,
      );
      // The tag asked with a HEAD first (the first one answered 401 with the challenge), which Hub
      // does not count; the destination has no such tag, so the index and both platforms are read.
      expect(counts).toEqual({
        tokenRequests: 1,
        manifestHeads: 2,
        manifestGets: 3,
        manifestGetsAnswered: 3,
        blobGets: 4,
        cdnGets: 4,
      });
      const remaining = mirror.map((entry) => entry.rateLimitRemaining).filter((value) => value !== '');
      expect(remaining.at(-1)).toBe('97;w=21600');
    });

    it('without the CA trusted, says the certificate is not trusted and how to add one, not --plain-http', async () => {
      requireBuiltCli();
      const actor = 'octocat';
      const token = `ghp_${randomBytes(18).toString('hex')}`;
      const input: QuickStartInput = {
        commands: ['ghcr inspect ghcr.io/octo-org/app:1.0.0'],
        layout: fileURLToPath(new URL('fixtures/oci-layout-multi', root)),
        actor,
        token,
      };
      const run = await runWithRealNames<QuickStartResult>({
        scenario: fileURLToPath(new URL('./testing/readme-quick-start.scenario.ts', import.meta.url)),
        input,
        env: { GITHUB_TOKEN: token, NO_COLOR: '1' },
        commands: { ghcr: BIN },
        trustTestCa: false,
      });
      const [inspect] = run.result.outcomes;
      expect(inspect?.code).toBe(1);
      expect(inspect?.stderr).toMatch(
        /^error: GHCR_CONNECTION_FAILED: HEAD "https:\/\/ghcr\.io\/v2\/octo-org\/app\/manifests\/1\.0\.0": the TLS certificate of ghcr\.io is not signed by a CA this process trusts; .*NODE_EXTRA_CA_CERTS=\/path\/ca\.pem/,
      );
      expect(inspect?.stderr).not.toContain('plain');
      expect(run.requests).toEqual([]);
    });
  },
);
