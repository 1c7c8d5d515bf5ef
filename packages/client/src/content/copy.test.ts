import { buildArtifactManifest, buildIndex, descriptorOf, formatPlatform } from '@ghcr/manifest';
import {
  type Descriptor,
  digestOf,
  EMPTY_DESCRIPTOR,
  EMPTY_JSON_BYTES,
  GhcrError,
  GhcrErrorCode,
  InvalidInputError,
  isManifestMediaType,
  MediaType,
  NotFoundError,
  ServerError,
} from '@ghcr/oci-types';
import { describe, expect, it } from 'vitest';
import { FIXTURE_LAYOUT, randomImage } from '../testing/images-kit.js';
import { type CopyProgress, copy } from './copy.js';
import { type MemoryTarget, memoryTarget } from './memory-target.js';
import { ociLayout } from './oci-layout.js';
import { hostPlatform } from './platform-choice.js';
import type { Target } from './target.js';

const INDEX = 'sha256:80512d7b0fcd9b26a1d57f543cc7e865c40a719a46bbb71bcbd57b4f52c4be84';
const AMD64 = 'sha256:54c3fdf3d12995ffa296feabe5f3b893e6bebd436bf8770111b2b6a21d463799';
const ARM64 = 'sha256:95c94f9c69f66c4b72ca1447c9cbc45ae9a78b76665904d72d8b96e63554ca5b';

interface Call {
  readonly kind: 'push' | 'tag';
  readonly digest: string;
  readonly manifest: boolean;
  readonly reference?: string;
}

/** A memory target that records pushes and tags, and the most pushes ever in flight. */
function spy(
  inner: MemoryTarget = memoryTarget(),
  hooks: { beforePush?: (d: Descriptor) => Promise<void> } = {},
) {
  const calls: Call[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const target: Target = {
    ...inner,
    async push(descriptor, content, options) {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        await hooks.beforePush?.(descriptor);
        // Let others start, so concurrency shows.
        await new Promise((resolve) => setImmediate(resolve));
        const result = await inner.push(descriptor, content, options);
        calls.push({
          kind: 'push',
          digest: descriptor.digest,
          manifest: isManifestMediaType(descriptor.mediaType),
        });
        return result;
      } finally {
        inFlight -= 1;
      }
    },
    async tag(descriptor, reference, options) {
      await inner.tag(descriptor, reference, options);
      calls.push({ kind: 'tag', digest: descriptor.digest, manifest: true, reference });
    },
  };
  return { target, inner, calls, maxInFlight: () => maxInFlight };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('copy', () => {
  it('pushes blobs first, then the platform manifests, then the index, then the tags', async () => {
    const destination = spy();
    const result = await copy(ociLayout(FIXTURE_LAYOUT), 'v1', destination.target, ['v1', 'latest'], {
      concurrency: 2,
    });
    expect(result).toMatchObject({
      descriptor: { digest: INDEX, mediaType: MediaType.OciIndex, size: 571 },
      references: ['v1', 'latest'],
      transferred: 7,
      skipped: 0,
      mounted: 0,
      bytesTransferred: 3039,
    });
    const kinds = destination.calls.map((call) =>
      call.kind === 'tag' ? 'tag' : call.manifest ? 'manifest' : 'blob',
    );
    expect(kinds).toEqual(['blob', 'blob', 'blob', 'blob', 'manifest', 'manifest', 'manifest', 'tag', 'tag']);
    const manifests = destination.calls.filter((call) => call.kind === 'push' && call.manifest);
    expect(manifests.at(-1)?.digest).toBe(INDEX);
    expect(new Set(manifests.slice(0, 2).map((call) => call.digest))).toEqual(new Set([AMD64, ARM64]));
    expect(destination.maxInFlight()).toBe(2);
    expect((await destination.inner.resolve('latest')).digest).toBe(INDEX);
  });

  it('never has more than `concurrency` transfers in flight', async () => {
    const { target: source } = await randomImage([10, 20, 30, 40, 50, 60, 70]);
    const destination = spy();
    await copy(source, 'v1', destination.target, 'v1', { concurrency: 3 });
    expect(destination.maxInFlight()).toBe(3);
    const one = spy();
    await copy(source, 'v1', one.target, 'v1', { concurrency: 1 });
    expect(one.maxInFlight()).toBe(1);
  });

  it('skips what the destination has: a present manifest is not descended into, only tagged', async () => {
    const destination = spy();
    await copy(ociLayout(FIXTURE_LAYOUT), 'v1', destination.target, 'v1');
    destination.calls.length = 0;
    const again = await copy(ociLayout(FIXTURE_LAYOUT), 'v1', destination.target, 'v2');
    expect(again).toMatchObject({ transferred: 0, skipped: 1, bytesTransferred: 0 });
    expect(destination.calls).toEqual([{ kind: 'tag', digest: INDEX, manifest: true, reference: 'v2' }]);
  });

  it('skips blobs the destination has and sends the rest', async () => {
    const { target: source, layers } = await randomImage([100, 200, 300]);
    const destination = spy();
    const first = layers[0] as Buffer;
    await destination.inner.push(
      { mediaType: MediaType.OciLayerGzip, digest: digestOf(first), size: 100 },
      first,
    );
    const result = await copy(source, 'v1', destination.target, 'v1');
    expect(result).toMatchObject({ transferred: 4, skipped: 1 });
    expect(destination.calls.filter((call) => call.digest === digestOf(first))).toEqual([]);
  });

  describe('inside one registry', () => {
    const at = (repository: string) => ({ registry: 'registry.example', repository });
    /** A destination whose HEAD of `digest` answers when the test says, and that logs the order. */
    function heldExists(digest: string) {
      const destination = spy();
      const order: string[] = [];
      let answer: (present: boolean) => void = () => {};
      const answered = new Promise<boolean>((resolve) => {
        answer = resolve;
      });
      let wasAsked: () => void = () => {};
      const asked = new Promise<void>((resolve) => {
        wasAsked = resolve;
      });
      const target: Target = {
        ...destination.target,
        location: at('octo/copy'),
        async exists(descriptor, options) {
          if (descriptor.digest !== digest) return destination.inner.exists(descriptor, options);
          order.push('manifest HEAD asked');
          wasAsked();
          const present = await answered;
          order.push('manifest HEAD answered');
          return present;
        },
        async push(descriptor, content, options) {
          order.push(`push ${isManifestMediaType(descriptor.mediaType) ? 'manifest' : 'blob'}`);
          return destination.target.push(descriptor, content, options);
        },
        // A registry takes the manifest with its tag (one PUT); the memory target, in two steps.
        async tag(descriptor, reference, options) {
          if (options?.manifest !== undefined && !(await destination.inner.exists(descriptor))) {
            order.push('manifest PUT');
            await destination.inner.push(descriptor, options.manifest);
          }
          return destination.target.tag(descriptor, reference, options);
        },
      };
      return { target, destination, order, answer, asked };
    }
    /** Lets the copy run until `done()` holds (or a hundred turns of the event loop have passed). */
    async function until(done: () => boolean): Promise<void> {
      for (let turn = 0; turn < 100 && !done(); turn++) await new Promise((resolve) => setImmediate(resolve));
    }

    it('asks whether the destination has the image manifest alongside the first mounts, not before them', async () => {
      const { target: memory, manifest } = await randomImage([10, 20, 30]);
      const source = { ...memory, location: at('octo/app') };
      const { target, destination, order, answer, asked } = heldExists(descriptorOf(manifest).digest);
      const copying = copy(source, 'v1', target, 'v1', { concurrency: 4 });
      // The mounts start while the HEAD is unanswered (before, it came first, alone).
      await asked;
      await until(() => order.length >= 4);
      expect(order).toEqual(['manifest HEAD asked', 'push blob', 'push blob', 'push blob']);
      answer(false);
      const result = await copying;
      // The config, three layers and the manifest; the HEAD's place goes to the last blob.
      expect(result).toMatchObject({ transferred: 5, skipped: 0 });
      expect(order.slice(4)).toEqual(['manifest HEAD answered', 'push blob', 'manifest PUT']);
      expect((await destination.inner.resolve('v1')).digest).toBe(descriptorOf(manifest).digest);
    });

    it('drops the mounts not yet started when the destination has the manifest, and only tags it', async () => {
      const { target: memory, manifest, config } = await randomImage([10, 20, 30, 40, 50, 60]);
      const source = { ...memory, location: at('octo/app') };
      const { target, destination, order, answer, asked } = heldExists(descriptorOf(manifest).digest);
      await copy(memory, 'v1', destination.inner, 'v1');
      // Two places: the HEAD takes one, one mount the other; the rest wait for a place.
      const copying = copy(source, 'v1', target, 'v2', { concurrency: 2 });
      await asked;
      await until(() => order.length >= 2);
      answer(true);
      const result = await copying;
      expect(order).toEqual(['manifest HEAD asked', 'push blob', 'manifest HEAD answered']);
      // The config and six layers: one mounted, six skipped with the manifest.
      expect(result).toMatchObject({ transferred: 1, skipped: 7, bytesTransferred: config.length });
      expect(destination.calls.map((call) => call.kind)).toEqual(['push', 'tag']);
      expect((await destination.inner.resolve('v2')).digest).toBe(descriptorOf(manifest).digest);
    });

    it('walks an index as before: the HEAD of each manifest first', async () => {
      const source = { ...ociLayout(FIXTURE_LAYOUT), location: at('octo/app') };
      const { target, order, answer, asked } = heldExists(INDEX);
      const copying = copy(source, 'v1', target, 'v1');
      await asked;
      await until(() => order.length >= 2);
      expect(order).toEqual(['manifest HEAD asked']);
      answer(true);
      expect(await copying).toMatchObject({ transferred: 0, skipped: 1 });
    });
  });

  it('copies one platform of an index and tags that manifest', async () => {
    const destination = spy();
    const result = await copy(ociLayout(FIXTURE_LAYOUT), 'v1', destination.target, 'arm', {
      platform: 'linux/arm64',
    });
    expect(result.descriptor).toMatchObject({
      digest: ARM64,
      platform: { architecture: 'arm64', variant: 'v8' },
    });
    expect(result.transferred).toBe(4); // config, two layers, the manifest
    expect(destination.inner.digests()).not.toContain(INDEX);
    expect(destination.inner.digests()).not.toContain(AMD64);
    expect((await destination.inner.resolve('arm')).digest).toBe(ARM64);
  });

  it('takes this machine platform with allPlatforms: false, and refuses both options at once', async () => {
    const destination = spy();
    const host = hostPlatform();
    const known = ['linux/amd64', 'linux/arm64/v8'];
    if (known.includes(formatPlatform(host))) {
      const result = await copy(ociLayout(FIXTURE_LAYOUT), 'v1', destination.target, 'host', {
        allPlatforms: false,
      });
      expect(result.descriptor.digest).toBe(host.architecture === 'amd64' ? AMD64 : ARM64);
    }
    const both = await rejection(
      copy(ociLayout(FIXTURE_LAYOUT), 'v1', destination.target, 'x', {
        platform: 'linux/amd64',
        allPlatforms: true,
      }),
    );
    expect(InvalidInputError.isInstance(both)).toBe(true);
  });

  it('names the platforms an index has when the one asked for is missing', async () => {
    const error = await rejection(
      copy(ociLayout(FIXTURE_LAYOUT), 'v1', memoryTarget(), 'v1', { platform: 'linux/s390x' }),
    );
    expect(NotFoundError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('linux/amd64, linux/arm64/v8');
  });

  it('copies referrers after their subject, recursively, and reports each one', async () => {
    const { target: source, manifest } = await randomImage([64]);
    const subject = descriptorOf(manifest);
    await source.push(EMPTY_DESCRIPTOR, EMPTY_JSON_BYTES);
    const signatureBlob = Buffer.from('signature');
    const signatureBlobDescriptor = {
      mediaType: 'application/octet-stream',
      digest: digestOf(signatureBlob),
      size: 9,
    };
    await source.push(signatureBlobDescriptor, signatureBlob);
    const signature = buildArtifactManifest({
      artifactType: 'application/vnd.example.signature',
      blobs: [signatureBlobDescriptor],
      subject,
    });
    await source.push(descriptorOf(signature), signature.bytes);
    const countersign = buildArtifactManifest({
      artifactType: 'application/vnd.example.countersign',
      blobs: [],
      subject: descriptorOf(signature),
    });
    await source.push(descriptorOf(countersign), countersign.bytes);
    const graph: Record<string, Descriptor[]> = {
      [subject.digest]: [descriptorOf(signature)],
      [signature.digest]: [descriptorOf(countersign)],
    };
    const asked: string[] = [];
    const copied: [string, string][] = [];
    const destination = spy();
    const result = await copy(source, 'v1', destination.target, 'v1', {
      referrers: async (descriptor) => {
        asked.push(descriptor.digest);
        return graph[descriptor.digest] ?? [];
      },
      referrerCopied: async (about, referrer) => {
        copied.push([about.digest, referrer.digest]);
      },
    });
    expect(result.referrers.map((descriptor) => descriptor.digest)).toEqual([
      signature.digest,
      countersign.digest,
    ]);
    expect(asked).toEqual([subject.digest, signature.digest, countersign.digest]);
    expect(copied).toEqual([
      [subject.digest, signature.digest],
      [signature.digest, countersign.digest],
    ]);
    const order = destination.calls.filter((call) => call.manifest).map((call) => call.digest);
    expect(order.indexOf(subject.digest)).toBeLessThan(order.indexOf(signature.digest));
    expect(order.indexOf(signature.digest)).toBeLessThan(order.indexOf(countersign.digest));
    expect(destination.inner.digests()).toContain(digestOf(signatureBlob));
    // The references come last, after the referrers.
    expect(destination.calls.at(-1)).toMatchObject({ kind: 'tag', reference: 'v1' });
  });

  it('reports bytes per item and items done of the total', async () => {
    const { target: source } = await randomImage([3000, 5000]);
    const progress: CopyProgress[] = [];
    await copy(source, 'v1', memoryTarget(), 'v1', {
      onProgress: (event) => progress.push(event),
      progressIntervalBytes: 1000,
    });
    expect(progress.every((event) => event.itemsTotal === 4)).toBe(true);
    const finals = progress.filter((event) => event.bytesDone === event.bytesTotal);
    expect(finals.map((event) => event.itemsDone)).toEqual([1, 2, 3, 4]);
    expect(progress.at(-1)).toMatchObject({ itemsDone: 4, itemsTotal: 4 });
  });

  it('stops at the first failure and reports it, not the aborts it caused', async () => {
    const { target: source, layers } = await randomImage([10, 20, 30, 40]);
    const failing = digestOf(layers[1] as Buffer);
    const destination = spy(memoryTarget(), {
      beforePush: async (descriptor) => {
        if (descriptor.digest === failing)
          throw new ServerError('storage is down', { code: 'GHCR_SERVICE_UNAVAILABLE' });
      },
    });
    const error = await rejection(copy(source, 'v1', destination.target, 'v1', { concurrency: 2 }));
    expect((error as GhcrError).code).toBe('GHCR_SERVICE_UNAVAILABLE');
    expect(destination.calls.some((call) => call.manifest)).toBe(false);
  });

  describe('a destination that stores a blob after reading it (onContentRead)', () => {
    /**
     * A memory destination whose blob pushes read the content, call `onContentRead`, then wait
     * for the test to let each one finish storing (`finish(digest)`, or a failure); it logs
     * pushes started, blobs stored and manifests pushed, in order.
     */
    function storingLater() {
      const inner = memoryTarget();
      const log: string[] = [];
      const started: string[] = [];
      const pending = new Map<string, { resolve: () => void; reject: (error: unknown) => void }>();
      let inFlight = 0;
      const target: Target = {
        ...inner,
        async push(descriptor, content, options) {
          if (isManifestMediaType(descriptor.mediaType)) {
            log.push('manifest');
            return inner.push(descriptor, content, options);
          }
          inFlight += 1;
          try {
            started.push(descriptor.digest);
            const result = await inner.push(descriptor, content, options);
            options?.onContentRead?.();
            await new Promise<void>((resolve, reject) => pending.set(descriptor.digest, { resolve, reject }));
            log.push('stored');
            return result;
          } finally {
            inFlight -= 1;
          }
        },
        async tag(descriptor, reference, options) {
          log.push('tag');
          return inner.tag(descriptor, reference, options);
        },
      };
      const finish = (digest: string) => {
        pending.get(digest)?.resolve();
        pending.delete(digest);
      };
      const fail = (digest: string, error: unknown) => {
        pending.get(digest)?.reject(error);
        pending.delete(digest);
      };
      return { target, inner, log, started, pending, finish, fail, inFlight: () => inFlight };
    }
    async function turns(count: number): Promise<void> {
      for (let turn = 0; turn < count; turn++) await new Promise((resolve) => setImmediate(resolve));
    }
    async function until(done: () => boolean): Promise<void> {
      for (let turn = 0; turn < 100 && !done(); turn++) await new Promise((resolve) => setImmediate(resolve));
    }

    it('gives a blob’s place to the next once its bytes are read, at most `concurrency` storing, and writes manifests after all', async () => {
      // A config and five layers, two places.
      const { target: source, manifest } = await randomImage([10, 20, 30, 40, 50]);
      const destination = storingLater();
      const copying = copy(source, 'v1', destination.target, 'v1', { concurrency: 2 });
      // The first two read and give up their places; the next two read but keep theirs, since two
      // are storing already; the sixth waits for a place.
      await until(() => destination.started.length >= 4);
      await turns(20);
      expect(destination.started).toHaveLength(4);
      expect(destination.pending.size).toBe(4);
      // One stored: one of the two that kept their places takes its storing place and gives up
      // its own, and the sixth blob starts; still no more than two storing.
      destination.finish(destination.started[0] as string);
      await until(() => destination.started.length >= 5);
      await turns(20);
      expect(destination.started).toHaveLength(5);
      expect(destination.log).toEqual(['stored']);
      // Each blob stored as it comes, but the last: no manifest while a blob is storing.
      for (
        let turn = 0;
        turn < 200 && !(destination.started.length === 6 && destination.pending.size === 1);
        turn++
      ) {
        const keys = [...destination.pending.keys()];
        for (const digest of destination.started.length === 6 ? keys.slice(1) : keys)
          destination.finish(digest);
        await turns(1);
      }
      expect(destination.started).toHaveLength(6);
      expect(destination.pending.size).toBe(1);
      await turns(20);
      expect(destination.log.filter((entry) => entry !== 'stored')).toEqual([]);
      destination.finish([...destination.pending.keys()][0] as string);
      const result = await copying;
      expect(result).toMatchObject({ transferred: 7, skipped: 0 });
      expect(destination.log).toEqual([...Array(6).fill('stored'), 'manifest', 'tag']);
      expect((await destination.inner.resolve('v1')).digest).toBe(descriptorOf(manifest).digest);
    });

    it('fails with the storing blob’s error, after every push settled, and writes no manifest', async () => {
      const { target: source } = await randomImage([10, 20, 30, 40]);
      const destination = storingLater();
      const copying = copy(source, 'v1', destination.target, 'v1', { concurrency: 2 });
      const settled = rejection(copying);
      await until(() => destination.started.length >= 4);
      let done = false;
      void settled.then(() => {
        done = true;
      });
      const [first, ...others] = destination.started;
      destination.fail(
        first as string,
        new ServerError('the disk is full', { code: 'GHCR_SERVICE_UNAVAILABLE' }),
      );
      // The others are still storing: the copy waits for them.
      await turns(20);
      expect(done).toBe(false);
      for (const digest of others) destination.finish(digest);
      const error = await settled;
      expect((error as GhcrError).code).toBe('GHCR_SERVICE_UNAVAILABLE');
      expect(destination.inFlight()).toBe(0);
      expect(destination.log.filter((entry) => entry !== 'stored')).toEqual([]);
    });
  });

  it('stops when the caller aborts', async () => {
    const { target: source } = await randomImage([10, 20]);
    const controller = new AbortController();
    const destination = spy(memoryTarget(), {
      beforePush: async () => {
        controller.abort();
      },
    });
    const error = await rejection(
      copy(source, 'v1', destination.target, 'v1', { signal: controller.signal }),
    );
    expect(GhcrError.isInstance(error)).toBe(true);
    expect((error as GhcrError).code).toBe(GhcrErrorCode.ABORTED);
    expect(destination.calls.some((call) => call.kind === 'tag')).toBe(false);
  });

  it('refuses a digest reference that is not the copied manifest', async () => {
    const { target: source } = await randomImage([10]);
    const error = await rejection(copy(source, 'v1', memoryTarget(), digestOf(Buffer.from('other'))));
    expect(InvalidInputError.isInstance(error)).toBe(true);
  });

  it('copies an index built in memory with every child', async () => {
    const amd = await randomImage([10], { platform: { os: 'linux', architecture: 'amd64' } });
    const arm = await randomImage([20], { platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } });
    const source = memoryTarget();
    for (const image of [amd, arm]) await copy(image.target, 'v1', source, image.manifest.digest);
    const index = buildIndex({
      manifests: [
        descriptorOf(amd.manifest, { platform: { os: 'linux', architecture: 'amd64' } }),
        descriptorOf(arm.manifest, { platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } }),
      ],
    });
    await source.push(descriptorOf(index), index.bytes);
    await source.tag(descriptorOf(index), 'multi');
    const destination = memoryTarget();
    const result = await copy(source, 'multi', destination, 'multi');
    expect(result.transferred).toBe(7);
    expect(new Set(destination.digests())).toEqual(new Set(source.digests()));
  });
});
