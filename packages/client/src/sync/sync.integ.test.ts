import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  type DockerRegistry,
  findBinary,
  integrationAvailability,
  startDockerRegistry,
} from '@ghcr/test-support';
import { describeWithBinaries } from '@ghcr/test-support/vitest';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createGhcrClient } from '../client.js';
import { randomImage } from '../testing/images-kit.js';
import { parseSyncConfig } from './config.js';

const withSkopeo = integrationAvailability(['docker-registry', 'skopeo']);
const TAGS = ['1.0.0', '1.1.0', '1.2.0', '1.3.0', '1.4.0-rc.1', 'latest'];

/** Runs skopeo; resolves with stdout, rejects with its stderr. */
function skopeo(args: readonly string[]): Promise<Buffer> {
  const binary = findBinary('skopeo') ?? 'skopeo';
  return new Promise((resolve, reject) => {
    execFile(
      binary,
      ['--insecure-policy', ...args],
      { encoding: 'buffer', timeout: 120_000 },
      (error, stdout, stderr) => {
        if (error !== null) reject(new Error(`skopeo ${args.join(' ')} failed: ${stderr.toString('utf8')}`));
        else resolve(stdout);
      },
    );
  });
}

/** The digest of the manifest skopeo reads at `reference` (sha256 of `inspect --raw`). */
async function skopeoDigest(reference: string): Promise<string> {
  const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${reference}`]);
  return `sha256:${createHash('sha256').update(raw).digest('hex')}`;
}

const manifestGets = async (registry: DockerRegistry): Promise<number> =>
  (await registry.accessLog()).filter((entry) => entry.method === 'GET' && /\/manifests\//.test(entry.path))
    .length;

describeWithBinaries(withSkopeo, 'sync between two docker-registry processes', () => {
  let source: DockerRegistry;
  let target: DockerRegistry;
  const digests = new Map<string, string>();
  let signature = '';

  beforeAll(async () => {
    [source, target] = await Promise.all([startDockerRegistry({ accessLog: true }), startDockerRegistry()]);
    const publisher = createGhcrClient({ registry: source.host });
    for (const tag of TAGS) {
      const image = await randomImage([2048, 4096]);
      await publisher.images.push(`mirror/app:${tag}`, { target: image.target, reference: 'v1' });
      digests.set(tag, image.manifest.digest);
    }
    const attached = await publisher.referrers.attach('mirror/app', digests.get('1.2.0') as string, {
      artifactType: 'application/vnd.example.sbom',
      files: [{ content: Buffer.from('{"sbom":true}') }],
    });
    signature = attached.digest;
  });
  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
  });

  it('mirrors a semver range with referrers, resumes after an interruption, then stays in step without pulling', async () => {
    const config = parseSyncConfig(`concurrency: { '${source.host}': 1 }
sync:
  - source: ${source.host}/mirror/app
    target: ${target.host}/copies/app
    tags: { semver: '>=1.1 <2' }
    referrers: true
`);
    const client = createGhcrClient({ registry: target.host });
    // Interrupted after the first tag is copied.
    const controller = new AbortController();
    await expect(
      client.sync(config, {
        signal: controller.signal,
        onProgress: ({ item }) => {
          if (item.action === 'copied') controller.abort(new Error('interrupted'));
        },
      }),
    ).rejects.toThrow();
    const present = await Promise.all(
      ['1.1.0', '1.2.0', '1.3.0'].map((tag) => client.manifests.head('copies/app', tag)),
    );
    expect(present.filter((descriptor) => descriptor !== undefined).length).toBeLessThan(3);

    const resumed = await client.sync(config);
    expect(resumed.status).toBe('in-sync');
    expect(resumed.counts.copied + resumed.counts['in-sync']).toBe(3);
    expect(resumed.counts['in-sync']).toBeGreaterThanOrEqual(1);
    expect(resumed.notes.join('\n')).toContain(
      'prereleases skipped (set tags.prerelease: true to take them): 1.4.0-rc.1',
    );
    expect(resumed.notes.join('\n')).toContain('not semver, skipped by the range >=1.1 <2: latest');

    // skopeo reads the same digests on both sides.
    for (const tag of ['1.1.0', '1.2.0', '1.3.0']) {
      const mirrored = await skopeoDigest(`${target.host}/copies/app:${tag}`);
      expect(mirrored).toBe(await skopeoDigest(`${source.host}/mirror/app:${tag}`));
      expect(mirrored).toBe(digests.get(tag));
    }
    expect(await client.manifests.head('copies/app', '1.0.0')).toBeUndefined();
    // The SBOM came along, listed at the target.
    const referrers = await client.referrers.list('copies/app', digests.get('1.2.0') as string);
    expect(referrers.map((descriptor) => descriptor.digest)).toEqual([signature]);

    // Nothing changed: the re-run HEADs only; the source serves no manifest GET.
    const before = await manifestGets(source);
    const again = await client.sync(config);
    expect(again.counts).toMatchObject({ copied: 0, 'in-sync': 3, failed: 0 });
    expect(await manifestGets(source)).toBe(before);
  });
});
