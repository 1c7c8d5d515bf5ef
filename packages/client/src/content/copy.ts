import { setMaxListeners } from 'node:events';
import { Readable } from 'node:stream';
import { descriptorOf, isIndex, manifestChildren, type ParsedManifest } from '@ghcr/manifest';
import {
  type Clock,
  type Descriptor,
  DigestMismatchError,
  definedProps,
  GhcrError,
  GhcrErrorCode,
  InvalidInputError,
  isDigest,
  type Platform,
  systemClock,
  TransportError,
} from '@ghcr/oci-types';
import type { BlobSource } from '../registry/blob-source.js';
import { mapLimit } from '../registry/concurrency.js';
import { signalOption, skipBytes } from './content.js';
import { createLimiter } from './limiter.js';
import { choosePlatform, platformWanted } from './platform-choice.js';
import { isManifestDescriptor, type ReadOnlyTarget, type Target } from './target.js';

/**
 * Progress of one item of a copy (a blob or a manifest), with the operation's totals.
 * @public
 */
export interface CopyProgress {
  readonly digest: string;
  readonly mediaType: string;
  /** Bytes of this item handed to the destination so far (may go back when a transfer restarts). */
  readonly bytesDone: number;
  readonly bytesTotal: number;
  /** Items (blobs and manifests) finished so far. */
  readonly itemsDone: number;
  /**
   * Items the copy handles: the manifests the destination lacks and their blobs. A blob the
   * destination turns out to have (checked when its turn comes) counts as done at once, without
   * a progress event of its own.
   */
  readonly itemsTotal: number;
}

/**
 * Options of {@link copy}.
 * @public
 */
export interface CopyOptions {
  /** Copy only this platform's manifest of an index (`linux/arm64`), and tag it. If omitted, see `allPlatforms`. */
  readonly platform?: string | Platform | undefined;
  /**
   * With an index and no `platform`: `true` copies the index and every manifest in it; `false`
   * copies the manifest for this machine's platform. If omitted, true.
   */
  readonly allPlatforms?: boolean | undefined;
  /**
   * The referrers of a manifest (signatures, SBOMs, attestations), e.g. from the referrers
   * capability. When given, each copied manifest's referrers are copied too (after it), and
   * theirs in turn. If omitted, referrers are not copied.
   */
  readonly referrers?: ((descriptor: Descriptor) => Promise<readonly Descriptor[]>) | undefined;
  /**
   * Called after a referrer manifest reached the destination, e.g. to update the referrers
   * fallback tag on a registry without the referrers API. If omitted, nothing more is done.
   */
  readonly referrerCopied?: ((subject: Descriptor, referrer: Descriptor) => Promise<void>) | undefined;
  /**
   * The caller knows the destination repository exists (a tag of it resolved): the copy does not
   * ask ({@link Target.isKnownEmpty}) and checks each blob at once. If omitted, a copy of an index
   * or of an image of 3 blobs or more asks once, and into a repository that does not exist sends
   * its blobs without a HEAD each.
   */
  readonly destinationExists?: boolean | undefined;
  /** Requests and transfers in flight at once. If omitted, 4. */
  readonly concurrency?: number | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Progress per item (bytes) and for the whole copy (items). If omitted, none is reported. */
  readonly onProgress?: ((progress: CopyProgress) => void) | undefined;
  /** Report a blob's progress at most once per this many bytes (and at its end). If omitted, 1 MiB. */
  readonly progressIntervalBytes?: number | undefined;
  /**
   * Fetches of one blob from a registry source before giving up when its bytes fail verification
   * (a digest or size mismatch: corrupted on the way). Each bad copy is discarded by the
   * destination; the next fetch starts from byte 0. If omitted, 3.
   */
  readonly blobAttempts?: number | undefined;
  /** Time source for the wait between those fetches (1 s, then 2 s, …). If omitted, the system clock. */
  readonly clock?: Clock | undefined;
  /** Called before a blob is fetched again. If omitted, nothing is reported. */
  readonly onRetry?: ((retry: CopyRetry) => void) | undefined;
}

/**
 * A blob fetched again because the copy before it failed verification.
 * @public
 */
export interface CopyRetry {
  readonly digest: string;
  /** The attempt about to start (2 for the first re-fetch). */
  readonly attempt: number;
  /** Why: the verification failure of the previous copy. */
  readonly error: unknown;
}

/** Wait before the second fetch of a corrupted blob, doubled after. */
const REFETCH_DELAY_MS = 1000;

/**
 * True when `error` says the bytes read for `descriptor` were not its bytes: fetching it again
 * from a registry may give the right ones. A blob the source itself holds wrongly (a corrupt
 * layout file) would fail the same way every time, so only registry sources qualify.
 */
function isBadCopy(error: unknown, descriptor: Descriptor): boolean {
  if (DigestMismatchError.isInstance(error)) return error.expected === descriptor.digest;
  return GhcrError.isInstance(error) && error.code === GhcrErrorCode.SIZE_MISMATCH;
}

/**
 * What {@link copy} did.
 * @public
 */
export interface CopyResult {
  /** The root copied: the resolved manifest, or the chosen platform's manifest of an index. */
  readonly descriptor: Descriptor;
  /** The references the destination now has for it (tags, layout names). */
  readonly references: readonly string[];
  /** Items (blobs and manifests) sent. */
  readonly transferred: number;
  /** Blobs mounted from the source repository (same registry): no bytes moved. */
  readonly mounted: number;
  /** Items the destination already had. */
  readonly skipped: number;
  /** Bytes of the items sent. */
  readonly bytesTransferred: number;
  /** Referrer manifests copied (or found already there). */
  readonly referrers: readonly Descriptor[];
}

interface ManifestNode {
  readonly descriptor: Descriptor;
  present: boolean;
  readonly manifest?: ParsedManifest;
  level: number;
  subject?: Descriptor;
}

interface BlobNode {
  readonly descriptor: Descriptor;
}

const MiB = 1024 * 1024;

/**
 * Copies a manifest and everything it references from one target to another (oras-go's `Copy`):
 * the graph is walked from the root, not descending into a manifest the destination has (its
 * children are there too); then blobs go in parallel under `concurrency`, each checked at the
 * destination just before it is sent (so checks overlap earlier transfers; not at all when the
 * destination is known to be empty, a repository that does not exist yet), then manifests,
 * each index after its children, and the references last. Blobs stream from source to
 * destination with nothing on disk and are verified (by the destination target, and, from one
 * registry to another, while they are read); between two repositories of one registry they are
 * mounted.
 *
 * ```ts
 * await copy(remoteRepository(client, 'octo/app'), '1.0', ociLayout('./app'), '1.0', { platform: 'linux/amd64' });
 * ```
 * @public
 */
export async function copy(
  source: ReadOnlyTarget,
  sourceReference: string,
  destination: Target,
  destinationReference: string | readonly string[],
  options: CopyOptions = {},
): Promise<CopyResult> {
  const wanted = platformWanted(options);
  const concurrency = options.concurrency ?? 4;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new InvalidInputError(`concurrency must be a whole number of at least 1, got ${concurrency}`);
  }
  const references = [
    ...new Set(typeof destinationReference === 'string' ? [destinationReference] : destinationReference),
  ];
  // One controller for the whole operation: the caller's abort, or the first failure, stops
  // everything in flight.
  const controller = new AbortController();
  const userSignal = options.signal;
  const onUserAbort = (): void => controller.abort(userSignal?.reason);
  if (userSignal?.aborted === true) onUserAbort();
  userSignal?.addEventListener('abort', onUserAbort, { once: true });
  const signal = controller.signal;
  // Every transfer in flight listens on it (its request, file streams, waits): Node's default cap
  // of 10 listeners would warn of a leak from 3 parallel blobs on.
  setMaxListeners(10 + 8 * concurrency, signal);
  let firstError: unknown;
  const fail = (error: unknown): never => {
    if (firstError === undefined && !(signal.aborted && userSignal?.aborted !== true)) firstError = error;
    controller.abort();
    throw error;
  };
  try {
    return await run();
  } catch (error) {
    throw asCopyError(firstError ?? error, source, destination, userSignal);
  } finally {
    userSignal?.removeEventListener('abort', onUserAbort);
  }

  async function run(): Promise<CopyResult> {
    const readOptions = { signal };
    const gate = createLimiter(concurrency);
    // Every step checks the signal as it starts: a target that ignores signals still stops.
    const limit = <T>(task: () => Promise<T>): Promise<T> =>
      gate(() => {
        if (signal.aborted) throw aborted(source, destination, signal.reason);
        return task();
      });
    const guarded = <T>(task: () => Promise<T>): Promise<T> => limit(task).catch(fail);

    // The root, and the platform's manifest when one is chosen. A registry answers the root with
    // one GET by reference (not a HEAD, then a GET by digest).
    let rootManifest: ParsedManifest;
    let root: Descriptor;
    if (source.fetchManifestByReference === undefined) {
      root = await source.resolve(sourceReference, readOptions);
      rootManifest = await source.fetchManifest(root, readOptions);
    } else {
      rootManifest = await source.fetchManifestByReference(sourceReference, readOptions);
      root = descriptorOf(rootManifest);
    }
    if (isIndex(rootManifest) && wanted !== undefined) {
      root = choosePlatform(rootManifest, wanted, `${source.name}:${sourceReference}`);
      rootManifest = await source.fetchManifest(root, readOptions);
    }
    for (const reference of references) {
      if (isDigest(reference) && reference !== root.digest) {
        throw new InvalidInputError(
          `the destination reference ${reference} is a digest but the copied manifest is ${root.digest}; give a tag, or the manifest's own digest`,
          { code: GhcrErrorCode.INVALID_REFERENCE, input: reference },
        );
      }
    }

    // Between two repositories of one registry, blobs are mounted.
    const mountFrom =
      source.location !== undefined &&
      destination.location !== undefined &&
      source.location.registry === destination.location.registry &&
      source.location.repository !== destination.location.repository
        ? source.location.repository
        : undefined;

    // Inside one registry the blobs of an image manifest are mounted, and a mount is answered 201
    // whether or not the destination already had the blob: whether the destination has the
    // manifest itself is asked alongside the first mounts instead of before them (one round trip
    // less for a new copy, the common case). When it has it, the mounts not yet started are
    // dropped. An index is walked as before: a child manifest the destination has spares its
    // blobs.
    const rootCheckedAlongside =
      mountFrom !== undefined && !isIndex(rootManifest) && options.referrers === undefined;

    // A destination known to hold nothing (a repository that does not exist yet) has none of the
    // blobs: no need to ask blob by blob. Asked while the walk runs, and only where it can save
    // requests (an index, or a manifest of at least MIN_BLOBS_TO_PROBE blobs): one request either way.
    const destinationEmpty =
      mountFrom === undefined &&
      options.destinationExists !== true &&
      destination.isKnownEmpty !== undefined &&
      worthProbing(rootManifest)
        ? destination.isKnownEmpty(readOptions)
        : Promise.resolve(false);
    // Settled below with the first blob; a walk that fails first leaves no unhandled rejection.
    destinationEmpty.catch(() => {});

    // Walk: what the destination lacks. A manifest it has is not descended into.
    const manifests = new Map<string, ManifestNode>();
    const blobs = new Map<string, BlobNode>();
    const visits = new Map<string, Promise<number>>();
    const visit = (descriptor: Descriptor, known?: ParsedManifest): Promise<number> => {
      const started = visits.get(descriptor.digest);
      if (started !== undefined) return started;
      const visiting = isManifestDescriptor(descriptor)
        ? visitManifest(descriptor, known)
        : visitBlob(descriptor);
      visits.set(descriptor.digest, visiting);
      return visiting;
    };
    // Whether the destination has a blob is asked when the blob's turn to transfer comes (below),
    // so those checks overlap the transfers of earlier blobs instead of all running first.
    const visitBlob = async (descriptor: Descriptor): Promise<number> => {
      blobs.set(descriptor.digest, { descriptor });
      return -1;
    };
    const visitManifest = async (descriptor: Descriptor, known?: ParsedManifest): Promise<number> => {
      const present =
        !(rootCheckedAlongside && descriptor.digest === root.digest) &&
        (await guarded(() => destination.exists(descriptor, readOptions)));
      if (present) {
        manifests.set(descriptor.digest, { descriptor, present, level: 0 });
        return 0;
      }
      const manifest = known ?? (await guarded(() => source.fetchManifest(descriptor, readOptions)));
      const children = manifestChildren(manifest).filter((child) => child.role !== 'subject');
      const levels = await Promise.all(children.map((child) => visit(child.descriptor)));
      const level = levels.reduce((highest, childLevel) => Math.max(highest, childLevel + 1), 0);
      manifests.set(descriptor.digest, { descriptor, present, manifest, level });
      return level;
    };
    await visit(root, rootManifest);

    const referrers: Descriptor[] = [];
    const findReferrers = options.referrers;
    if (findReferrers !== undefined) {
      const asked = new Set<string>();
      let frontier = [...manifests.values()].map((node) => node.descriptor);
      while (frontier.length > 0) {
        const next: Descriptor[] = [];
        await Promise.all(
          frontier.map(async (subject) => {
            if (asked.has(subject.digest)) return;
            asked.add(subject.digest);
            const found = await guarded(() => findReferrers(subject));
            for (const referrer of found) {
              if (visits.has(referrer.digest) || !isManifestDescriptor(referrer)) continue;
              await visit(referrer);
              const node = manifests.get(referrer.digest);
              if (node === undefined) continue;
              node.level = Math.max(node.level, (manifests.get(subject.digest)?.level ?? 0) + 1);
              node.subject = subject;
              referrers.push(referrer);
              next.push(referrer);
            }
          }),
        );
        frontier = next;
      }
    }

    // Transfer: blobs, then manifests level by level, then the references.
    const blobsToSend = [...blobs.values()];
    let manifestsToSend = [...manifests.values()].filter((node) => !node.present);
    let itemsTotal = blobsToSend.length + manifestsToSend.length;
    let skippedBlobs = 0;
    let itemsDone = 0;
    let mounted = 0;
    let bytesTransferred = 0;
    const interval = options.progressIntervalBytes ?? MiB;
    const progress = (descriptor: Descriptor) => {
      let last = -1;
      return (bytesDone: number, finished = false): void => {
        if (options.onProgress === undefined) return;
        // The end is reported once, with the item counted as done.
        const due =
          finished || bytesDone < last || (bytesDone - last >= interval && bytesDone < descriptor.size);
        if (!due) return;
        last = bytesDone;
        options.onProgress({
          digest: descriptor.digest,
          mediaType: descriptor.mediaType,
          bytesDone,
          bytesTotal: descriptor.size,
          itemsDone,
          itemsTotal,
        });
      };
    };
    // Blobs read from another registry are verified while they stream to a registry (a bad
    // source fails before the upload commits). A local source (a layout, memory) goes raw: the
    // destination registry checks the digest when the upload closes (DIGEST_INVALID, reported as
    // an UploadError naming the blob), so hashing it here too only cost CPU (~0.2 s per 256 MiB).
    // A target that verifies what it writes itself (a layout, memory) always gets the raw,
    // resumable source.
    const verifiedReads = destination.location !== undefined && source.location !== undefined;
    const blobAttempts = source.location === undefined ? 1 : Math.max(1, options.blobAttempts ?? 3);
    const clock = options.clock ?? systemClock;
    const pushVerified = async <T>(descriptor: Descriptor, push: () => Promise<T>): Promise<T> => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await push();
        } catch (error) {
          if (attempt >= blobAttempts || signal.aborted || !isBadCopy(error, descriptor)) throw error;
          options.onRetry?.({ digest: descriptor.digest, attempt: attempt + 1, error });
          await clock.sleep(REFETCH_DELAY_MS * 2 ** (attempt - 1), signal);
        }
      }
    };

    // Queued ahead of the mounts, so it takes the first of the `concurrency` places.
    let rootFoundPresent = false;
    const rootPresence = rootCheckedAlongside
      ? guarded(async () => {
          // Set before the place is given up, so the next mount to start sees it.
          rootFoundPresent = await destination.exists(root, readOptions);
          return rootFoundPresent;
        })
      : undefined;
    // Settled below, after the blobs; a blob that fails first leaves no unhandled rejection.
    rootPresence?.catch(() => {});
    // Blobs whose bytes are all read while the destination still stores them (a layout syncs
    // and renames each file): each gives its place to the next blob, at most `concurrency` of
    // them at once, and every one settles before any manifest is written (or the copy fails).
    const storing: Promise<void>[] = [];
    let storingNow = 0;
    // Blobs read but keeping their places because `concurrency` others are storing: woken, all
    // of them, each time one of those settles, to look again.
    let storingWaiters: (() => void)[] = [];
    const storingSettled = (): void => {
      storingNow -= 1;
      const waiters = storingWaiters;
      storingWaiters = [];
      for (const wake of waiters) wake();
    };
    const blobsSent = mapLimit(blobsToSend, concurrency, ({ descriptor }) =>
      limit(async () => {
        const report = progress(descriptor);
        // Between two repositories of one registry the mount itself says whether the blob is
        // there (201 either way, no bytes move): a HEAD first would only add a request. A
        // destination found to have the manifest has its blobs.
        if (
          rootFoundPresent ||
          (mountFrom === undefined &&
            !(await destinationEmpty) &&
            (await destination.exists(descriptor, readOptions)))
        ) {
          // Done, but nothing moved: no progress event of its own (a progress bar would show a
          // transfer); the next event's itemsDone counts it.
          skippedBlobs += 1;
          itemsDone += 1;
          return;
        }
        let contentRead = (): void => {};
        const read = new Promise<'read'>((resolve) => {
          contentRead = () => resolve('read');
        });
        const stored = pushVerified(descriptor, () =>
          destination.push(descriptor, contentOf(source, descriptor, verifiedReads), {
            signal,
            onProgress: report,
            ...definedProps({ mountFrom }),
            onContentRead: contentRead,
          }),
        ).then((result) => {
          if (result.method === 'mounted') mounted += 1;
          else bytesTransferred += descriptor.size;
          itemsDone += 1;
          report(descriptor.size, true);
          return 'stored' as const;
        });
        let first: 'stored' | 'read' | 'woken' = await Promise.race([stored, read]);
        while (first !== 'stored' && storingNow >= concurrency) {
          first = await Promise.race([
            stored,
            new Promise<'woken'>((resolve) => storingWaiters.push(() => resolve('woken'))),
          ]);
        }
        if (first === 'stored') return;
        storingNow += 1;
        const settled = stored.then(storingSettled, (error: unknown) => {
          storingSettled();
          fail(error);
        });
        // Awaited below; a failure meanwhile has already stopped the copy through `fail`.
        settled.catch(() => {});
        storing.push(settled);
      }).catch(fail),
    );
    const sendFailure = await blobsSent.then(
      () => undefined,
      (error: unknown) => ({ error }),
    );
    // None is left storing when the copy returns or throws (every blob that was started has
    // given its place or settled by now, so `storing` is complete).
    const stores = await Promise.allSettled(storing);
    if (sendFailure !== undefined) throw sendFailure.error;
    const failedStore = stores.find((outcome) => outcome.status === 'rejected');
    if (failedStore !== undefined) throw failedStore.reason;

    if (rootPresence !== undefined && (await rootPresence)) {
      const node = manifests.get(root.digest);
      if (node !== undefined) node.present = true;
      manifestsToSend = manifestsToSend.filter((node) => node.descriptor.digest !== root.digest);
      itemsTotal -= 1;
    }
    const skippedManifests = manifests.size - manifestsToSend.length;

    // A registry stores a manifest put under a tag, and it is then addressable by digest too: the
    // root goes up once, under its first tag, instead of by digest and then by tag.
    const firstTag = destination.location === undefined ? undefined : references.find((r) => !isDigest(r));
    const rootDeferred =
      firstTag !== undefined && manifestsToSend.some((node) => node.descriptor.digest === root.digest);
    const levels = [...new Set(manifestsToSend.map((node) => node.level))].sort((a, b) => a - b);
    for (const level of levels) {
      const batch = manifestsToSend.filter(
        (node) =>
          !(rootDeferred && node.descriptor.digest === root.digest && node.subject === undefined) &&
          node.level === level,
      );
      await mapLimit(batch, concurrency, (node) =>
        limit(async () => {
          const bytes =
            node.manifest?.bytes ?? (await source.fetchManifest(node.descriptor, readOptions)).bytes;
          await destination.push(node.descriptor, bytes, { signal });
          bytesTransferred += node.descriptor.size;
          itemsDone += 1;
          progress(node.descriptor)(node.descriptor.size, true);
          if (node.subject !== undefined) await options.referrerCopied?.(node.subject, node.descriptor);
        }).catch(fail),
      );
    }

    const tagRoot = (reference: string) =>
      limit(() => destination.tag(root, reference, { signal, manifest: rootManifest.bytes })).catch(fail);
    if (rootDeferred && firstTag !== undefined) {
      await tagRoot(firstTag);
      bytesTransferred += root.size;
      itemsDone += 1;
      progress(root)(root.size, true);
    }
    await mapLimit(
      references.filter((reference) => !(rootDeferred && reference === firstTag)),
      concurrency,
      tagRoot,
    );

    return {
      descriptor: descriptorOf(rootManifest, {
        ...definedProps({ platform: root.platform }),
      }),
      references,
      transferred: itemsTotal - skippedBlobs,
      mounted,
      skipped: skippedManifests + skippedBlobs,
      bytesTransferred,
      referrers,
    };
  }
}

/**
 * Fewest blobs an image manifest must list for a copy to ask whether the destination is empty
 * (one request, which saves one HEAD per blob when it is).
 */
const MIN_BLOBS_TO_PROBE = 3;

/** Whether a copy of `root` has enough blobs to check for the probe to pay (an index always has). */
function worthProbing(root: ParsedManifest): boolean {
  if (isIndex(root)) return true;
  return manifestChildren(root).filter((child) => child.role !== 'subject').length >= MIN_BLOBS_TO_PROBE;
}

/**
 * A blob of `source` as a re-readable source: from byte 0 a verified fetch (or the raw source when
 * the destination verifies), from a later byte the raw source (the destination verifies the
 * whole at the end), or a fetch that skips to it.
 */
function contentOf(source: ReadOnlyTarget, descriptor: Descriptor, verified: boolean): BlobSource {
  const raw = source.source?.(descriptor);
  return {
    size: descriptor.size,
    open(offset, signal, options) {
      if (raw !== undefined && (offset > 0 || !verified)) return raw.open(offset, signal, options);
      if (offset > 0) {
        const stream = source.fetch(descriptor, signalOption(signal));
        return Readable.from(skipBytes(stream, offset), { objectMode: false });
      }
      return source.fetch(descriptor, {
        ...signalOption(signal),
        ...definedProps({ recycleAfter: options?.recycleAfter }),
      });
    },
  };
}

function aborted(source: ReadOnlyTarget, destination: Target, reason: unknown): TransportError {
  return new TransportError(`copy from ${source.name} to ${destination.name}: aborted`, {
    code: GhcrErrorCode.ABORTED,
    cause: reason,
    isRetryable: false,
  });
}

function asCopyError(
  error: unknown,
  source: ReadOnlyTarget,
  destination: Target,
  signal: AbortSignal | undefined,
): unknown {
  if (GhcrError.isInstance(error)) return error;
  if (signal?.aborted === true) return aborted(source, destination, error);
  return new TransportError(
    `copy from ${source.name} to ${destination.name} failed: ${error instanceof Error ? error.message : String(error)}`,
    { cause: error },
  );
}
