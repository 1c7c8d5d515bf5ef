import { buildArtifactManifest, descriptorOf } from '@ghcr/manifest';
import {
  DigestMismatchError,
  digestOf,
  EMPTY_DESCRIPTOR,
  EMPTY_JSON_BYTES,
  type GhcrError,
  GhcrErrorCode,
  InvalidManifestError,
  MediaType,
  NotFoundError,
} from '@ghcr/oci-types';
import { describe, expect, it } from 'vitest';
import { drain } from '../testing/simulated-client.js';
import { memoryTarget } from './memory-target.js';

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('memoryTarget', () => {
  it('stores verified content, resolves tags and digests, and streams it back', async () => {
    const target = memoryTarget();
    const bytes = Buffer.from('layer bytes');
    const descriptor = { mediaType: MediaType.OciLayer, digest: digestOf(bytes), size: bytes.byteLength };
    expect(await target.exists(descriptor)).toBe(false);
    const progress: number[] = [];
    await target.push(descriptor, bytes, { onProgress: (done) => progress.push(done) });
    expect(progress).toEqual([bytes.byteLength]);
    expect(await target.exists(descriptor)).toBe(true);
    expect((await drain(target.fetch(descriptor))).bytes).toEqual(bytes);

    await target.push(EMPTY_DESCRIPTOR, EMPTY_JSON_BYTES);
    const manifest = buildArtifactManifest({ artifactType: 'application/vnd.example', blobs: [descriptor] });
    await target.push(descriptorOf(manifest), manifest.bytes);
    await target.tag(descriptorOf(manifest), 'v1');
    expect((await target.resolve('v1')).digest).toBe(manifest.digest);
    expect((await target.resolve(manifest.digest)).digest).toBe(manifest.digest);
    expect((await target.fetchManifest(descriptorOf(manifest))).digest).toBe(manifest.digest);
    expect([...target.references().keys()]).toEqual(['v1']);
  });

  it('refuses content that does not match its descriptor, and manifests that do not parse', async () => {
    const target = memoryTarget();
    const bytes = Buffer.from('abc');
    const wrong = await rejection(
      target.push({ mediaType: MediaType.OciLayer, digest: digestOf('abd'), size: 3 }, bytes),
    );
    expect(DigestMismatchError.isInstance(wrong)).toBe(true);
    const short = await rejection(
      target.push({ mediaType: MediaType.OciLayer, digest: digestOf(bytes), size: 4 }, bytes),
    );
    expect((short as GhcrError).code).toBe(GhcrErrorCode.SIZE_MISMATCH);
    const notAManifest = Buffer.from('{"schemaVersion":2}');
    const bad = await rejection(
      target.push(
        { mediaType: MediaType.OciManifest, digest: digestOf(notAManifest), size: notAManifest.byteLength },
        notAManifest,
      ),
    );
    expect(InvalidManifestError.isInstance(bad)).toBe(true);
    expect(target.digests()).toEqual([]);
  });

  it('reports what is missing', async () => {
    const target = memoryTarget();
    expect(NotFoundError.isInstance(await rejection(target.resolve('v1')))).toBe(true);
    const missing = { mediaType: MediaType.OciLayer, digest: digestOf('x'), size: 1 };
    const { error } = await drain(target.fetch(missing));
    expect(NotFoundError.isInstance(error)).toBe(true);
    expect(NotFoundError.isInstance(await rejection(target.tag(missing, 'v1')))).toBe(true);
  });
});
