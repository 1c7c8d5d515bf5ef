import { staticCredentials } from '@ghcr/auth';
import { buildImageManifest, descriptorOf } from '@ghcr/manifest';
import { type Clock, createManualClock, digestOf, MediaType } from '@ghcr/oci-types';
import { createSimulation } from '@ghcr/simulation';
import { describe, expect, it } from 'vitest';
import { createGhcrClient, type GhcrClient } from '../client.js';
import { memoryTarget } from '../content/memory-target.js';
import { HubQuotaDispatcher } from '../testing/hub-quota-dispatcher.js';
import { randomImage } from '../testing/images-kit.js';
import { RoutingDispatcher } from '../testing/routing-dispatcher.js';
import { parseSyncConfig } from './config.js';
import { syncReportMarkdown } from './report.js';

const WINDOW = 21_600;

/** A Docker-Hub-like source (distribution profile, Hub's quota in front) and a ghcr.io target. */
async function mirrors(tags: readonly string[], quota = { limit: 100, windowSeconds: WINDOW }) {
  const manual = createManualClock();
  const sleeps: number[] = [];
  const clock: Clock & { advance(ms: number): Promise<void>; readonly pendingSleeps: number } = {
    now: () => manual.now(),
    sleep: (ms, signal) => {
      sleeps.push(ms);
      return manual.sleep(ms, signal);
    },
    advance: (ms) => manual.advance(ms),
    get pendingSleeps() {
      return manual.pendingSleeps;
    },
  };
  const ghcr = createSimulation({ profile: 'ghcr', clock: manual });
  ghcr.createUser('octo');
  const pat = ghcr.createToken({
    user: 'octo',
    scopes: ['read:packages', 'write:packages', 'delete:packages'],
  });
  const hub = createSimulation({
    profile: 'distribution',
    clock: manual,
    registryUrl: 'https://registry-1.docker.io',
  });
  hub.createUser('library');
  const hubToken = hub.createToken({ user: 'library', scopes: ['read:packages', 'write:packages'] });
  const quotaDispatcher = new HubQuotaDispatcher(hub, quota);
  const dispatcher = new RoutingDispatcher({
    'https://ghcr.io': ghcr.dispatcher(),
    'https://pkg-containers.githubusercontent.com': ghcr.dispatcher(),
    'https://registry-1.docker.io': quotaDispatcher,
  });
  const publisher = createGhcrClient({
    registry: 'docker.io',
    dispatcher,
    clock: manual,
    credentials: staticCredentials(
      { username: 'library', password: hubToken },
      { registries: ['docker.io'] },
    ),
  });
  const publish = async (tag: string) => {
    const image = await randomImage([256, 512]);
    await publisher.images.push(`app:${tag}`, { target: image.target, reference: 'v1' });
    return image.manifest.digest;
  };
  const digests = new Map<string, string>();
  for (const tag of tags) digests.set(tag, await publish(tag));
  hub.setVisibility('library', 'app', 'public');
  // Seeding spent nothing the sync should see.
  quotaDispatcher.remaining = quota.limit;
  quotaDispatcher.counted = 0;
  const client = createGhcrClient({
    dispatcher,
    clock,
    credentials: staticCredentials({ username: 'octo', password: pat }, { registries: ['ghcr.io'] }),
  });
  const hubManifestGets = () =>
    hub.log.entries.filter((entry) => entry.method === 'GET' && /\/manifests\//.test(entry.path)).length;
  /** Pushes an image whose config says it was created at `created`. */
  const publishCreated = async (tag: string, created: string) => {
    const target = memoryTarget();
    const layer = Buffer.from(`layer of ${tag}`);
    const layerDescriptor = {
      mediaType: MediaType.OciLayerGzip,
      digest: digestOf(layer),
      size: layer.byteLength,
    };
    await target.push(layerDescriptor, layer);
    const config = Buffer.from(
      JSON.stringify({
        os: 'linux',
        architecture: 'amd64',
        created,
        rootfs: { type: 'layers', diff_ids: [] },
      }),
    );
    const configDescriptor = {
      mediaType: MediaType.OciConfig,
      digest: digestOf(config),
      size: config.byteLength,
    };
    await target.push(configDescriptor, config);
    const manifest = buildImageManifest({ config: configDescriptor, layers: [layerDescriptor] });
    await target.push(descriptorOf(manifest), manifest.bytes);
    await target.tag(descriptorOf(manifest), 'v1');
    await publisher.images.push(`app:${tag}`, { target, reference: 'v1' });
  };
  return {
    publishCreated,
    clock,
    sleeps,
    ghcr,
    hub,
    quota: quotaDispatcher,
    client,
    publisher,
    publish,
    digests,
    hubManifestGets,
  };
}

const config = (extra = '', tags = "glob: ['1.*']") =>
  parseSyncConfig(
    `
defaults:
  rateLimit: { floor: 10${extra} }
sync:
  - source: docker.io/library/app
    target: ghcr.io/octo/app
    tags: { ${tags} }
`,
    'mirrors.yml',
  );

async function targetDigest(client: GhcrClient, tag: string): Promise<string | undefined> {
  return (await client.manifests.head('octo/app', tag))?.digest;
}

describe('client.sync: Docker Hub → ghcr.io', () => {
  it('copies what is missing, then a re-run with nothing changed spends no pull', async () => {
    const env = await mirrors(['1.0.0', '1.1.0', '1.2.0', '2.0.0']);
    const first = await env.client.sync(config());
    expect(first.status).toBe('in-sync');
    expect(first.counts).toMatchObject({ copied: 3, 'in-sync': 0, failed: 0 });
    for (const tag of ['1.0.0', '1.1.0', '1.2.0']) {
      expect(await targetDigest(env.client, tag)).toBe(env.digests.get(tag));
    }
    expect(await targetDigest(env.client, '2.0.0')).toBeUndefined();
    // One manifest GET per single-platform image copied, nothing else counted.
    expect(env.quota.counted).toBe(3);

    env.hub.log.clear();
    env.quota.counted = 0;
    const second = await env.client.sync(config());
    expect(second.status).toBe('in-sync');
    expect(second.counts).toMatchObject({ copied: 0, 'in-sync': 3 });
    expect(env.quota.counted).toBe(0);
    expect(env.hubManifestGets()).toBe(0);
    // The source was HEADed, once per tag.
    const heads = env.hub.log.entries.filter((e) => e.method === 'HEAD' && /\/manifests\//.test(e.path));
    expect(heads).toHaveLength(3);
  });

  it('moves only the tag that changed', async () => {
    const env = await mirrors(['1.0.0', '1.1.0', '1.2.0']);
    await env.client.sync(config());
    const changed = await env.publish('1.1.0');
    env.quota.counted = 0;
    const report = await env.client.sync(config());
    expect(report.counts).toMatchObject({ copied: 1, 'in-sync': 2 });
    const moved = report.items.find((item) => item.action === 'copied');
    expect(moved).toMatchObject({
      source: 'docker.io/library/app:1.1.0',
      target: 'ghcr.io/octo/app:1.1.0',
      reason: 'digest differs',
      sourceDigest: changed,
    });
    expect(await targetDigest(env.client, '1.1.0')).toBe(changed);
    expect(env.quota.counted).toBe(1);
  });

  it('does not ask whether a mirror repository exists when one of its tags resolved', async () => {
    const env = await mirrors(['1.0.0', '1.1.0']);
    await env.client.sync(config());
    // A new image of three layers under a mirrored tag: enough blobs that a copy would ask.
    const image = await randomImage([1024, 2048, 4096]);
    await env.publisher.images.push('app:1.1.0', { target: image.target, reference: 'v1' });
    env.ghcr.log.clear();
    const report = await env.client.sync(config());
    expect(report.counts).toMatchObject({ copied: 1, 'in-sync': 1 });
    expect(report.items.find((item) => item.action === 'copied')).toMatchObject({ reason: 'digest differs' });
    expect(await targetDigest(env.client, '1.1.0')).toBe(image.manifest.digest);
    // The target's tag resolved, so its repository exists: no tag list, each blob checked.
    expect(env.ghcr.log.byOperation('tags.list')).toHaveLength(0);
    expect(env.ghcr.log.byOperation('blob.head')).toHaveLength(4);
  });

  it('stops at the floor with the rest deferred (exit 3), and a later run resumes', async () => {
    const env = await mirrors(['1.0.0', '1.1.0', '1.2.0', '1.3.0', '1.4.0']);
    const serial = parseSyncConfig(
      `concurrency: { docker.io: 1 }
defaults: { rateLimit: { floor: 10 } }
sync: [{ source: docker.io/library/app, target: ghcr.io/octo/app }]`,
    );
    env.quota.remaining = 12;
    const first = await env.client.sync(serial);
    expect(first.status).toBe('rate-limited');
    // The first HEAD shows 12 left: two copies (12 → 10), then the floor.
    expect(first.counts).toMatchObject({ copied: 2, deferred: 3, failed: 0 });
    expect(env.quota.counted).toBe(2);
    expect(env.quota.remaining).toBe(10);
    expect(first.rateLimits['registry-1.docker.io']).toMatchObject({
      remaining: 10,
      limit: 100,
      windowSeconds: WINDOW,
    });
    expect(first.resumeAfter).toBeGreaterThan(env.clock.now());
    expect(syncReportMarkdown(first)).toContain('Sync incomplete: rate limit reached');

    // Still inside the window: nothing more is pulled.
    env.quota.counted = 0;
    const again = await env.client.sync(serial);
    expect(again.counts).toMatchObject({ copied: 0, 'in-sync': 2, deferred: 3 });
    expect(env.quota.counted).toBe(0);

    await env.clock.advance(WINDOW * 1000);
    const resumed = await env.client.sync(serial);
    expect(resumed.status).toBe('in-sync');
    expect(resumed.counts).toMatchObject({ copied: 3, 'in-sync': 2 });
    expect(env.quota.counted).toBe(3);
    for (const [tag, digest] of env.digests) expect(await targetDigest(env.client, tag)).toBe(digest);
  });

  it('with onLimit: wait, waits for the window and goes on', async () => {
    const env = await mirrors(['1.0.0', '1.1.0', '1.2.0']);
    env.quota.remaining = 11;
    const waits: number[] = [];
    const running = env.client.sync(
      parseSyncConfig(`concurrency: { docker.io: 1 }
defaults: { rateLimit: { floor: 10, onLimit: wait } }
sync: [{ source: docker.io/library/app, target: ghcr.io/octo/app }]`),
      { onWait: ({ ms }) => waits.push(ms) },
    );
    for (let turn = 0; turn < 10_000 && env.clock.pendingSleeps === 0; turn += 1) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(waits).toEqual([WINDOW * 1000]);
    await env.clock.advance(WINDOW * 1000);
    const report = await running;
    expect(report.status).toBe('in-sync');
    expect(report.counts).toMatchObject({ copied: 3 });
    expect(env.sleeps).toContain(WINDOW * 1000);
  });

  it('a 429 from the source defers the rest rather than failing; Retry-After is waited by the transport', async () => {
    const env = await mirrors(['1.0.0', '1.1.0']);
    // Someone else spent the quota between our HEAD and our GET.
    env.hub.faults.add({
      method: 'GET',
      path: '/manifests/1\\.0\\.0$',
      count: 1,
      action: { type: 'status', status: 429, retryAfter: 30 },
    });
    const serial = parseSyncConfig(`concurrency: { docker.io: 1 }
sync: [{ source: docker.io/library/app, target: ghcr.io/octo/app, tags: ['1.0.0'] }]`);
    const running = env.client.sync(serial);
    for (let turn = 0; turn < 10_000 && env.clock.pendingSleeps === 0; turn += 1) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(env.sleeps).toContain(30_000);
    await env.clock.advance(30_000);
    expect((await running).counts).toMatchObject({ copied: 1 });

    // A quota 429 asking for a wait longer than the transport accepts: deferred, exit 3, not failed.
    env.hub.faults.add({
      method: 'GET',
      path: '/manifests/1\\.1\\.0$',
      count: 1,
      action: { type: 'status', status: 429, retryAfter: WINDOW },
    });
    const limited = await env.client.sync(
      parseSyncConfig(`sync: [{ source: docker.io/library/app, target: ghcr.io/octo/app, tags: ['1.1.0'] }]`),
    );
    expect(limited.status).toBe('rate-limited');
    expect(limited.items[0]).toMatchObject({ action: 'deferred' });
    expect(limited.items[0]?.reason).toMatch(/429/);
    expect(await targetDigest(env.client, '1.1.0')).toBeUndefined();
  });

  it('dry run: the plan, nothing copied, no pull spent', async () => {
    const env = await mirrors(['1.0.0', '1.1.0']);
    await env.client.sync(
      parseSyncConfig(`sync: [{ source: docker.io/library/app, target: ghcr.io/octo/app, tags: ['1.0.0'] }]`),
    );
    env.quota.counted = 0;
    const plan = await env.client.sync(config(), { dryRun: true });
    expect(plan.dryRun).toBe(true);
    expect(plan.items.map((item) => [item.target, item.action, item.reason])).toEqual(
      expect.arrayContaining([
        ['ghcr.io/octo/app:1.0.0', 'in-sync', 'same digest'],
        ['ghcr.io/octo/app:1.1.0', 'would-copy', 'missing at the target'],
      ]),
    );
    expect(env.quota.counted).toBe(0);
    expect(await targetDigest(env.client, '1.1.0')).toBeUndefined();
  });

  it('copies referrers with the image', async () => {
    const env = await mirrors(['1.0.0']);
    const subject = env.digests.get('1.0.0') as string;
    const signature = await env.publisher.referrers.attach('library/app', subject, {
      artifactType: 'application/vnd.example.signature',
      files: [{ content: Buffer.from('signed') }],
    });
    const report = await env.client.sync(
      parseSyncConfig(`sync: [{ source: docker.io/library/app, target: ghcr.io/octo/app, referrers: true }]`),
    );
    expect(report.counts).toMatchObject({ copied: 1, failed: 0 });
    expect(report.items[0]?.referrers).toBe(1);
    const copied = await env.client.referrers.list('octo/app', subject);
    expect(copied.map((descriptor) => descriptor.digest)).toEqual([signature.digest]);
  });

  it('digestTags: the cosign tags of the synced digests follow, others do not', async () => {
    const env = await mirrors(['1.0.0', '2.0.0']);
    const hexOf = (tag: string) => (env.digests.get(tag) as string).slice(7);
    const ours = `sha256-${hexOf('1.0.0')}.sig`;
    const notOurs = `sha256-${hexOf('2.0.0')}.sig`;
    const signature = await env.publish(ours);
    await env.publish(notOurs);
    const report = await env.client.sync(config());
    expect(report.items.map((item) => item.target)).toEqual(['ghcr.io/octo/app:1.0.0']);
    const withDigestTags = await env.client.sync(
      parseSyncConfig(
        `sync: [{ source: docker.io/library/app, target: ghcr.io/octo/app, tags: { glob: ['1.*'] }, digestTags: true }]`,
      ),
    );
    expect(withDigestTags.items.map((item) => [item.target, item.action])).toEqual([
      ['ghcr.io/octo/app:1.0.0', 'in-sync'],
      [`ghcr.io/octo/app:${ours}`, 'copied'],
    ]);
    expect(await targetDigest(env.client, ours)).toBe(signature);
    expect(await targetDigest(env.client, notOurs)).toBeUndefined();
  });

  it('newest N by creation time; what is mirrored already is dated from the target', async () => {
    const env = await mirrors([]);
    await env.publishCreated('stable', '2026-03-01T00:00:00Z');
    await env.publishCreated('edge', '2026-05-01T00:00:00Z');
    await env.publishCreated('old', '2025-01-01T00:00:00Z');
    await env.publishCreated('nightly', '2026-04-01T00:00:00Z');
    env.hub.setVisibility('library', 'app', 'public');
    const newest = parseSyncConfig(
      `sync: [{ source: docker.io/library/app, target: ghcr.io/octo/app, tags: { newest: { count: 2, by: created } } }]`,
    );
    const first = await env.client.sync(newest);
    expect(first.items.map((item) => item.target).sort()).toEqual([
      'ghcr.io/octo/app:edge',
      'ghcr.io/octo/app:nightly',
    ]);
    env.quota.counted = 0;
    const again = await env.client.sync(newest);
    expect(again.counts).toMatchObject({ copied: 0, 'in-sync': 2 });
    // The two not mirrored are dated from the source (a manifest GET each); the mirrored two from the target.
    expect(env.quota.counted).toBe(2);
  });

  it('a single image to a renamed tag', async () => {
    const env = await mirrors(['1.0.0', '1.1.0']);
    const report = await env.client.sync(
      parseSyncConfig(`sync: [{ source: 'docker.io/app:1.1.0', target: 'ghcr.io/octo/app:stable' }]`),
    );
    expect(report.items).toHaveLength(1);
    expect(report.items[0]).toMatchObject({ action: 'copied', target: 'ghcr.io/octo/app:stable' });
    expect(await targetDigest(env.client, 'stable')).toBe(env.digests.get('1.1.0'));
  });
});
