import {
  type Clock,
  type Descriptor,
  definedProps,
  GhcrError,
  parseReference,
  RateLimitError,
  ThrottleTimeoutError,
} from '@ghcr/oci-types';
import { createLimiter } from '../content/limiter.js';
import type { Images } from '../images/images.js';
import type { Referrers } from '../referrers/referrers.js';
import type { Manifests } from '../registry/manifests.js';
import type { Tags } from '../registry/tags.js';
import type { SyncConfig, SyncPair } from './config.js';
import type { RateLimitReader, RateLimitState } from './rate-limit.js';
import { registerCopiedReferrer } from './register-referrer.js';
import { isDigestTag, selectTags } from './tag-selection.js';

/**
 * The capabilities of one registry that a sync uses (a `GhcrClient` is one).
 * @public
 */
export interface SyncRegistryView {
  readonly registry: string;
  /** The API base URL (`https://registry-1.docker.io`): its host is where the quota is read. */
  readonly baseUrl: string;
  readonly tags: Pick<Tags, 'list' | 'tag'>;
  readonly manifests: Pick<Manifests, 'head' | 'get'>;
  readonly images: Pick<Images, 'copy' | 'inspect'>;
  readonly referrers: Pick<Referrers, 'list' | 'register'>;
  forRegistry(registry: string): SyncRegistryView;
}

/**
 * What a sync did with one tag.
 * - `copied`: the target did not have it, or had another digest; it was copied.
 * - `would-copy`: the same, in a dry run.
 * - `in-sync`: source and target have the same digest; nothing moved.
 * - `deferred`: not copied because the source's rate limit was reached; a re-run picks it up.
 * - `failed`: an error, in `error`.
 * @public
 */
export type SyncAction = 'copied' | 'would-copy' | 'in-sync' | 'deferred' | 'failed';

/**
 * One tag of a sync report.
 * @public
 */
export interface SyncItem {
  /** `registry/repository:tag` read. */
  readonly source: string;
  /** `registry/repository:tag` written. */
  readonly target: string;
  readonly action: SyncAction;
  /** Why (`missing at the target`, `digest differs`, `same digest`, `rate limit: 9 left, floor 10`). */
  readonly reason: string;
  readonly sourceDigest?: string;
  /** The target's digest before the run (absent when it had no such tag). */
  readonly targetDigest?: string;
  /** For `copied`: blobs and manifests sent, found already there, mounted; bytes sent; referrers copied. */
  readonly transferred?: number;
  readonly skipped?: number;
  readonly mounted?: number;
  readonly bytesTransferred?: number;
  readonly referrers?: number;
  /** For `failed`: the error's code and message. */
  readonly error?: { readonly code: string; readonly message: string };
}

/**
 * What a sync run did.
 * - `status`: `in-sync` (every tag matches, or would after a dry run), `failed` (some items
 *   failed: exit 1), `rate-limited` (some were deferred by a rate limit: exit 3).
 * @public
 */
export interface SyncReport {
  readonly status: 'in-sync' | 'failed' | 'rate-limited';
  readonly dryRun: boolean;
  readonly items: readonly SyncItem[];
  /** Per pair: what the tag selection passed over, and why; pair-level failures. */
  readonly notes: readonly string[];
  readonly counts: Readonly<Record<SyncAction, number>>;
  /** The last quota each rate-limited source reported, by API host. */
  readonly rateLimits: Readonly<Record<string, RateLimitState>>;
  /** With `rate-limited`: when the quota's window should have passed (epoch ms), when known. */
  readonly resumeAfter?: number;
}

/**
 * Progress of a sync: emitted as each tag is decided.
 * @public
 */
export interface SyncProgress {
  readonly done: number;
  /** Tags known so far (grows while pairs are listed). */
  readonly total: number;
  readonly item: SyncItem;
}

/**
 * Options of `client.sync`.
 * @public
 */
export interface SyncOptions {
  /** Decide and report, copy nothing. If omitted, false. */
  readonly dryRun?: boolean | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Called as each tag is decided. */
  readonly onProgress?: ((progress: SyncProgress) => void) | undefined;
  /** Called when a wait for a rate-limit window starts (`onLimit: wait`). */
  readonly onWait?: (wait: {
    readonly host: string;
    readonly ms: number;
    readonly state: RateLimitState;
  }) => void;
  /** Where source quotas are read. If omitted, the client's own observer (none with a transport you passed in: no floor applies). */
  readonly rateLimits?: RateLimitReader | undefined;
}

/**
 * What a sync needs besides the config: the registries, the clock, the quota reader.
 * @internal
 */
export interface SyncEnvironment {
  readonly root: SyncRegistryView;
  readonly clock: Clock;
  readonly rateLimits?: RateLimitReader;
}

const DEFAULT_CONCURRENCY = 4;

function hostOf(baseUrl: string): string {
  try {
    return new URL(baseUrl).host;
  } catch {
    return baseUrl;
  }
}

/** `:tag` written at the end of a reference (a port is followed by `/`, a tag is not). */
function explicitTag(reference: string): boolean {
  return /:[^/]+$/.test(reference.split('@')[0] ?? '');
}

function errorOf(error: unknown): { code: string; message: string } {
  if (GhcrError.isInstance(error)) return { code: error.code, message: error.message };
  return { code: 'GHCR_INTERNAL', message: error instanceof Error ? error.message : String(error) };
}

/**
 * Runs a sync: for each pair and each selected tag, HEADs the source and the target and copies
 * only when the digests differ (blobs the target has are skipped; the copy engine does that).
 * A source's quota is read from its responses; at the floor, the run waits for the window or
 * stops with the rest deferred (a re-run resumes: the state is the target itself).
 * @internal
 */
export async function runSync(
  config: SyncConfig,
  environment: SyncEnvironment,
  options: SyncOptions = {},
): Promise<SyncReport> {
  const { root, clock } = environment;
  const rateLimits = options.rateLimits ?? environment.rateLimits;
  const dryRun = options.dryRun === true;
  const items: SyncItem[] = [];
  const notes: string[] = [];
  const limiters = new Map<string, <T>(task: () => Promise<T>) => Promise<T>>();
  const limiterOf = (registry: string) => {
    let limiter = limiters.get(registry);
    if (limiter === undefined) {
      limiter = createLimiter(config.concurrency[registry] ?? DEFAULT_CONCURRENCY);
      limiters.set(registry, limiter);
    }
    return limiter;
  };
  // Limiters are always taken in name order, so two pairs going opposite ways cannot deadlock.
  const underLimits = <T>(registries: readonly string[], task: () => Promise<T>): Promise<T> =>
    [...new Set(registries)]
      .sort()
      .reverse()
      .reduce<() => Promise<T>>((inner, registry) => () => limiterOf(registry)(inner), task)();
  const stopped = new Set<string>();
  const waits = new Map<string, Promise<void>>();
  const seenStates = new Map<string, RateLimitState>();
  let total = 0;
  const record = (item: SyncItem): void => {
    items.push(item);
    options.onProgress?.({ done: items.length, total, item });
  };

  /** Undefined when the source may be pulled from; else why not. Waits for the window with `onLimit: wait`. */
  const quotaBlock = async (host: string, refresh: () => Promise<unknown>): Promise<string | undefined> => {
    for (;;) {
      if (stopped.has(host)) return 'rate limit reached earlier in this run';
      const state = rateLimits?.read(host);
      if (state !== undefined) seenStates.set(host, state);
      if (state === undefined || state.remaining > config.rateLimit.floor) return undefined;
      const why = `rate limit: ${state.remaining} pulls left on ${host}, floor ${config.rateLimit.floor}`;
      if (config.rateLimit.onLimit === 'stop' || dryRun) {
        if (!dryRun) stopped.add(host);
        return why;
      }
      const windowMs = (state.windowSeconds ?? config.rateLimit.maxWaitSeconds) * 1000;
      const ms = Math.min(windowMs, config.rateLimit.maxWaitSeconds * 1000);
      let wait = waits.get(host);
      if (wait === undefined) {
        options.onWait?.({ host, ms, state });
        wait = (async () => {
          await clock.sleep(ms, options.signal);
          // A HEAD is free on Docker Hub and brings the quota's current value.
          await refresh();
        })().finally(() => waits.delete(host));
        waits.set(host, wait);
      }
      await wait;
    }
  };

  const syncTag = async (
    pair: SyncPair,
    source: { view: SyncRegistryView; repository: string; tag: string },
    target: { view: SyncRegistryView; repository: string; tag: string },
    digests: Set<string>,
  ): Promise<void> => {
    const sourceName = `${source.view.registry}/${source.repository}:${source.tag}`;
    const targetName = `${target.view.registry}/${target.repository}:${target.tag}`;
    const host = hostOf(source.view.baseUrl);
    let sourceDigest: string | undefined;
    let targetDigest: string | undefined;
    options.signal?.throwIfAborted();
    try {
      const [sourceDescriptor, targetDescriptor] = await Promise.all([
        source.view.manifests.head(source.repository, source.tag),
        target.view.manifests.head(target.repository, target.tag),
      ]);
      if (sourceDescriptor === undefined) {
        record({
          source: sourceName,
          target: targetName,
          action: 'failed',
          reason: 'the source has no such tag',
          error: { code: 'MANIFEST_UNKNOWN', message: `${sourceName} does not exist` },
        });
        return;
      }
      sourceDigest = sourceDescriptor.digest;
      digests.add(sourceDigest);
      targetDigest = targetDescriptor?.digest;
      const expected =
        pair.platform === undefined
          ? sourceDigest
          : await platformDigest(source, sourceDescriptor, pair.platform);
      const base = {
        source: sourceName,
        target: targetName,
        sourceDigest: expected,
        ...definedProps({ targetDigest }),
      };
      if (targetDigest === expected) {
        record({ ...base, action: 'in-sync', reason: 'same digest' });
        return;
      }
      const why = targetDigest === undefined ? 'missing at the target' : 'digest differs';
      const blocked = await quotaBlock(host, () => source.view.manifests.head(source.repository, source.tag));
      if (blocked !== undefined) {
        record({ ...base, action: 'deferred', reason: `${why}; ${blocked}` });
        return;
      }
      if (dryRun) {
        record({ ...base, action: 'would-copy', reason: why });
        return;
      }
      const copied = await source.view.images.copy(sourceName, targetName, {
        ...definedProps({ signal: options.signal }),
        // The target's tag resolved: its repository exists, so the copy need not ask.
        ...(targetDigest === undefined ? {} : { destinationExists: true }),
        ...(pair.platform === undefined ? { allPlatforms: true } : { platform: pair.platform }),
        ...(pair.referrers
          ? {
              referrers: (descriptor: Descriptor) =>
                source.view.referrers.list(source.repository, descriptor.digest),
              referrerCopied: async (subject: Descriptor, referrer: Descriptor) => {
                await registerCopiedReferrer(target.view, target.repository, subject, referrer);
              },
            }
          : {}),
      });
      record({
        ...base,
        sourceDigest: copied.descriptor.digest,
        action: 'copied',
        reason: why,
        transferred: copied.transferred,
        skipped: copied.skipped,
        mounted: copied.mounted,
        bytesTransferred: copied.bytesTransferred,
        referrers: copied.referrers.length,
      });
    } catch (error) {
      const base = {
        source: sourceName,
        target: targetName,
        ...definedProps({ sourceDigest, targetDigest }),
      };
      if (RateLimitError.isInstance(error) || ThrottleTimeoutError.isInstance(error)) {
        if (config.rateLimit.onLimit === 'stop') stopped.add(host);
        record({ ...base, action: 'deferred', reason: `the source answered 429: ${error.message}` });
        return;
      }
      if (options.signal?.aborted === true) throw error;
      record({ ...base, action: 'failed', reason: 'error', error: errorOf(error) });
    }
  };

  const runPair = async (pair: SyncPair): Promise<void> => {
    const from = parseReference(pair.source);
    const to = parseReference(pair.target);
    const sourceView = root.forRegistry(from.registry);
    const targetView = root.forRegistry(to.registry);
    const single = explicitTag(pair.source);
    let tags: readonly string[];
    let all: readonly string[] = [];
    try {
      all = single && !pair.digestTags ? [] : await sourceView.tags.list(from.repository);
      const selected = single ? { tags: [from.tag as string], notes: [] } : selectTags(all, pair.tags);
      tags = selected.tags;
      for (const note of selected.notes) notes.push(`${pair.source}: ${note}`);
      if (pair.tags.newest?.by === 'created')
        tags = await newestByCreated(
          sourceView,
          targetView,
          from.repository,
          to.repository,
          tags,
          pair.tags.newest.count,
        );
    } catch (error) {
      const { code, message } = errorOf(error);
      notes.push(`${pair.source}: cannot list the source's tags: ${message}`);
      record({
        source: pair.source,
        target: pair.target,
        action: 'failed',
        reason: 'cannot list the source tags',
        error: { code, message },
      });
      return;
    }
    total += tags.length;
    const targetTagOf = (tag: string): string =>
      single && explicitTag(pair.target) ? (to.tag as string) : tag;
    const registries = [sourceView.registry, targetView.registry];
    const digests = new Set<string>();
    await Promise.all(
      tags.map((tag) =>
        underLimits(registries, () =>
          syncTag(
            pair,
            { view: sourceView, repository: from.repository, tag },
            { view: targetView, repository: to.repository, tag: targetTagOf(tag) },
            digests,
          ),
        ),
      ),
    );
    if (!pair.digestTags) return;
    // cosign's sha256-<hex>.sig/.att/.sbom and the referrers fallback index of what was synced.
    const { platform: _whole, ...rest } = pair;
    const digestTagPair: SyncPair = { ...rest, referrers: false };
    const digestTags = all.filter((tag) => isDigestTag(tag) && digests.has(`sha256:${tag.slice(7, 71)}`));
    total += digestTags.length;
    await Promise.all(
      digestTags.map((tag) =>
        underLimits(registries, () =>
          syncTag(
            digestTagPair,
            { view: sourceView, repository: from.repository, tag },
            { view: targetView, repository: to.repository, tag },
            new Set(),
          ),
        ),
      ),
    );
  };

  await Promise.all(config.pairs.map(runPair));
  const counts: Record<SyncAction, number> = {
    copied: 0,
    'would-copy': 0,
    'in-sync': 0,
    deferred: 0,
    failed: 0,
  };
  for (const item of items) counts[item.action] += 1;
  const status = counts.failed > 0 ? 'failed' : counts.deferred > 0 ? 'rate-limited' : 'in-sync';
  const rateLimitStates = Object.fromEntries(
    [
      ...new Set([
        ...seenStates.keys(),
        ...config.pairs.map((p) => hostOf(root.forRegistry(parseReference(p.source).registry).baseUrl)),
      ]),
    ]
      .map((host) => [host, rateLimits?.read(host) ?? seenStates.get(host)] as const)
      .filter((entry): entry is readonly [string, RateLimitState] => entry[1] !== undefined),
  );
  const resumeAfter = status === 'rate-limited' ? resumeTime(Object.values(rateLimitStates)) : undefined;
  return {
    status,
    dryRun,
    items,
    notes,
    counts,
    rateLimits: rateLimitStates,
    ...definedProps({ resumeAfter }),
  };
}

function resumeTime(states: readonly RateLimitState[]): number | undefined {
  const times = states
    .filter((state) => state.windowSeconds !== undefined)
    .map((state) => state.observedAt + (state.windowSeconds as number) * 1000);
  return times.length === 0 ? undefined : Math.max(...times);
}

/**
 * The digest the target gets for `platform` of the source's manifest: the platform's manifest of an
 * index (the index is read: one GET), the manifest itself otherwise.
 */
async function platformDigest(
  source: { view: SyncRegistryView; repository: string },
  descriptor: Descriptor,
  platform: string,
): Promise<string> {
  const [os, architecture, variant] = platform.split('/');
  const got = await source.view.manifests.get(source.repository, descriptor.digest);
  if (got.kind !== 'oci-index' && got.kind !== 'docker-manifest-list') return descriptor.digest;
  const manifests: readonly Descriptor[] = got.manifest.manifests;
  const match = manifests.find(
    (entry) =>
      entry.platform?.os === os &&
      entry.platform?.architecture === architecture &&
      (variant === undefined || entry.platform?.variant === variant),
  );
  return match?.digest ?? descriptor.digest;
}

/**
 * The `count` tags whose images were created last. An image the target has with the same digest is
 * read from the target (costs the source nothing); the others from the source.
 */
async function newestByCreated(
  source: SyncRegistryView,
  target: SyncRegistryView,
  sourceRepository: string,
  targetRepository: string,
  tags: readonly string[],
  count: number,
): Promise<string[]> {
  const dated = await Promise.all(
    tags.map(async (tag) => {
      const [s, t] = await Promise.all([
        source.manifests.head(sourceRepository, tag),
        target.manifests.head(targetRepository, tag),
      ]);
      const inspected =
        s !== undefined && t?.digest === s.digest
          ? await target.images.inspect(`${target.registry}/${targetRepository}@${t.digest}`)
          : await source.images.inspect(`${source.registry}/${sourceRepository}:${tag}`);
      const created = inspected.created === undefined ? Number.NaN : Date.parse(inspected.created);
      return { tag, created: Number.isNaN(created) ? Number.NEGATIVE_INFINITY : created };
    }),
  );
  return dated
    .sort((a, b) => b.created - a.created || a.tag.localeCompare(b.tag))
    .slice(0, count)
    .map((entry) => entry.tag);
}
