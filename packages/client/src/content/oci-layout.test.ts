import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buildImageManifest, descriptorOf } from '@ghcr/manifest';
import {
  type Descriptor,
  DigestMismatchError,
  definedProps,
  digestOf,
  GhcrError,
  GhcrErrorCode,
  InvalidInputError,
  MediaType,
  NotFoundError,
} from '@ghcr/oci-types';
import { afterEach, describe, expect, it } from 'vitest';
import type { BlobSource } from '../registry/blob-source.js';
import { FIXTURE_LAYOUT, tempDir } from '../testing/images-kit.js';
import { drain } from '../testing/simulated-client.js';
import { goJson, OCI_REF_NAME_ANNOTATION, ociLayout } from './oci-layout.js';

const INDEX_DIGEST = 'sha256:80512d7b0fcd9b26a1d57f543cc7e865c40a719a46bbb71bcbd57b4f52c4be84';
const ARM64_MANIFEST = 'sha256:95c94f9c69f66c4b72ca1447c9cbc45ae9a78b76665904d72d8b96e63554ca5b';
const LAYER: Descriptor = {
  mediaType: MediaType.OciLayerGzip,
  digest: 'sha256:9e241ba9d7ddde736dce2b7a04ef4705cdc499e5a045837c308584803b4bcae2',
  size: 139,
};

const dirs: string[] = [];
async function scratch(): Promise<string> {
  const dir = await tempDir('ghcr-layout-');
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

const blob = (bytes: Buffer, mediaType = 'application/octet-stream') => ({
  mediaType,
  digest: digestOf(bytes),
  size: bytes.byteLength,
});

function emptyArtifact(annotations?: Record<string, string>) {
  return buildImageManifest({
    config: { ...blob(Buffer.from('{}')), mediaType: MediaType.OciEmpty },
    layers: [],
    artifactType: 'application/vnd.example.test',
    ...definedProps({ annotations }),
  });
}

/** Files left at the layout's top with the temporary prefix. */
async function temporaries(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.startsWith('.ghcr-tmp-'));
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('ociLayout reading a layout skopeo wrote', () => {
  const layout = ociLayout(FIXTURE_LAYOUT);

  it('resolves a name, the only entry, and a digest not listed in index.json', async () => {
    const named = await layout.resolve('v1');
    expect(named).toMatchObject({ mediaType: MediaType.OciIndex, digest: INDEX_DIGEST, size: 571 });
    expect(named.annotations?.[OCI_REF_NAME_ANNOTATION]).toBe('v1');
    expect((await layout.resolve('')).digest).toBe(INDEX_DIGEST);
    // A platform manifest is a blob only: its media type comes from its bytes.
    expect(await layout.resolve(ARM64_MANIFEST)).toEqual({
      mediaType: MediaType.OciManifest,
      digest: ARM64_MANIFEST,
      size: 629,
    });
  });

  it('names what it has when a reference is unknown', async () => {
    const error = await rejection(layout.resolve('v2'));
    expect(NotFoundError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('it has: v1');
  });

  it('reads manifests with their exact bytes and blobs verified', async () => {
    const index = await layout.fetchManifest(await layout.resolve('v1'));
    expect(index.kind).toBe('oci-index');
    expect(Buffer.from(index.bytes)).toEqual(
      await readFile(join(FIXTURE_LAYOUT, 'blobs/sha256', INDEX_DIGEST.slice(7))),
    );
    const { bytes, error } = await drain(layout.fetch(LAYER));
    expect(error).toBeUndefined();
    expect(digestOf(bytes)).toBe(LAYER.digest);
    expect(await layout.exists(LAYER)).toBe(true);
    expect(await layout.exists({ ...LAYER, size: 140 })).toBe(false);
    expect((await layout.list()).map((entry) => entry.digest)).toEqual([INDEX_DIGEST]);
  });

  it('reads a blob from an offset through source()', async () => {
    const source = layout.source(LAYER);
    const whole = (await drain(layout.fetch(LAYER))).bytes;
    const tail = (await drain(Readable.from(source.open(100)))).bytes;
    expect(tail).toEqual(whole.subarray(100));
  });

  it('fails a fetch whose file does not match the descriptor', async () => {
    const wrong = { ...LAYER, digest: digestOf(Buffer.from('other')) };
    const { error } = await drain(layout.fetch(wrong));
    expect(NotFoundError.isInstance(error)).toBe(true);
    const { error: sizeError } = await drain(layout.fetch({ ...LAYER, size: 100 }));
    expect((sizeError as GhcrError).code).toBe(GhcrErrorCode.SIZE_MISMATCH);
  });

  it('reports a directory that is not a layout', async () => {
    const empty = await scratch();
    const error = await rejection(ociLayout(empty).resolve('v1'));
    expect(NotFoundError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('no index.json');
    expect(await ociLayout(join(empty, 'absent')).exists(LAYER)).toBe(false);
  });
});

describe('ociLayout writing', () => {
  it('creates oci-layout and index.json as skopeo does, blobs under blobs/<alg>/<hex>', async () => {
    const dir = join(await scratch(), 'new');
    const layout = ociLayout(dir);
    const layer = randomBytes(1000);
    const config = Buffer.from(
      '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}',
    );
    const progress: number[] = [];
    await layout.push(blob(layer, MediaType.OciLayer), layer, { onProgress: (done) => progress.push(done) });
    expect(progress.at(-1)).toBe(1000);
    await layout.push(blob(config, MediaType.OciConfig), config);
    const manifest = buildImageManifest({
      config: blob(config, MediaType.OciConfig),
      layers: [blob(layer, MediaType.OciLayer)],
    });
    await layout.push(descriptorOf(manifest), manifest.bytes);
    await layout.tag(descriptorOf(manifest), 'v1');

    expect(await readFile(join(dir, 'oci-layout'), 'utf8')).toBe('{"imageLayoutVersion": "1.0.0"}');
    expect(await readFile(join(dir, 'index.json'), 'utf8')).toBe(
      `{"schemaVersion":2,"manifests":[{"mediaType":"${MediaType.OciManifest}","digest":"${manifest.digest}","size":${manifest.size},"annotations":{"${OCI_REF_NAME_ANNOTATION}":"v1"}}]}`,
    );
    expect(await readFile(join(dir, 'blobs/sha256', digestOf(layer).slice(7)))).toEqual(layer);
    expect(await temporaries(dir)).toEqual([]);
    expect((await layout.resolve('v1')).digest).toBe(manifest.digest);
  });

  it('moves a name to the new manifest, keeps other names, and records a digest once without a name', async () => {
    const dir = await scratch();
    const layout = ociLayout(dir);
    const first = emptyArtifact();
    const second = emptyArtifact({ n: '2' });
    await layout.push(descriptorOf(first), first.bytes);
    await layout.push(descriptorOf(second), second.bytes);
    await layout.tag(descriptorOf(first), 'latest');
    await layout.tag(descriptorOf(first), 'v1');
    await layout.tag(descriptorOf(second), 'latest');
    await layout.tag(descriptorOf(second), second.digest);
    await layout.tag(descriptorOf(second), second.digest);
    const entries = await layout.list();
    expect(entries.map((entry) => [entry.digest, entry.annotations?.[OCI_REF_NAME_ANNOTATION]])).toEqual([
      [first.digest, 'v1'],
      [second.digest, 'latest'],
    ]);
    expect((await layout.resolve('latest')).digest).toBe(second.digest);
  });

  it('refuses to name content it does not have, and names outside the OCI grammar', async () => {
    const layout = ociLayout(await scratch());
    const manifest = emptyArtifact();
    expect(NotFoundError.isInstance(await rejection(layout.tag(descriptorOf(manifest), 'v1')))).toBe(true);
    await layout.push(descriptorOf(manifest), manifest.bytes);
    for (const bad of ['../x', 'a//b', '-v1', 'v1 ']) {
      expect(
        InvalidInputError.isInstance(await rejection(layout.tag(descriptorOf(manifest), bad))),
        bad,
      ).toBe(true);
    }
    await layout.tag(descriptorOf(manifest), 'example.com/app:v1.0');
  });

  it('writes nothing that looks whole when the content does not match its digest', async () => {
    const dir = await scratch();
    const layout = ociLayout(dir);
    const real = randomBytes(300_000);
    const corrupted = Buffer.from(real);
    corrupted[150_000] = (corrupted[150_000] ?? 0) ^ 0xff;
    const error = await rejection(layout.push(blob(real), corrupted));
    expect(DigestMismatchError.isInstance(error)).toBe(true);
    expect(await readdir(join(dir, 'blobs/sha256'))).toEqual([]);
    expect(await temporaries(dir)).toEqual([]);
    // A short source is refused as well.
    const short = await rejection(layout.push(blob(real), real.subarray(0, 1000)));
    expect((short as GhcrError).code).toBe(GhcrErrorCode.SIZE_MISMATCH);
    expect(await readdir(join(dir, 'blobs/sha256'))).toEqual([]);
  });

  it('says when every byte is read and verified, before the blob is in place, and never for bad content', async () => {
    const dir = await scratch();
    const layout = ociLayout(dir);
    const bytes = randomBytes(700_000);
    const path = join(dir, 'blobs/sha256', digestOf(bytes).slice(7));
    const seen: { readonly progress: number; readonly inPlace: boolean; readonly temporaries: number }[] = [];
    let progress = 0;
    const pushed = layout.push(blob(bytes), bytes, {
      onProgress: (done) => {
        progress = done;
      },
      onContentRead: () => {
        // Synchronous checks: the push cannot move on while this runs.
        let inPlace = true;
        try {
          readFileSync(path);
        } catch {
          inPlace = false;
        }
        const left = readdirSync(dir).filter((name) => name.startsWith('.ghcr-tmp-')).length;
        seen.push({ progress, inPlace, temporaries: left });
      },
    });
    await pushed;
    // Once, with every byte counted, while the file was still under its temporary name.
    expect(seen).toEqual([{ progress: bytes.byteLength, inPlace: false, temporaries: 1 }]);
    expect(await readFile(path)).toEqual(bytes);

    const corrupted = randomBytes(700_000);
    const calls: number[] = [];
    const error = await rejection(
      layout.push(blob(randomBytes(700_000)), corrupted, { onContentRead: () => calls.push(1) }),
    );
    expect(DigestMismatchError.isInstance(error)).toBe(true);
    expect(calls).toEqual([]);
  });

  it('removes the temporary file when the source fails or the push is aborted', async () => {
    const dir = await scratch();
    const layout = ociLayout(dir);
    const bytes = randomBytes(600_000);
    const failing: BlobSource = {
      size: bytes.byteLength,
      open: () =>
        Readable.from(
          (async function* broken() {
            yield bytes.subarray(0, 100_000);
            throw Object.assign(new Error('disk went away'), { code: 'EIO' });
          })(),
        ),
    };
    const error = await rejection(layout.push(blob(bytes), failing));
    expect(GhcrError.isInstance(error)).toBe(true);
    expect((error as GhcrError).code).toBe('GHCR_FILE_SYSTEM');
    expect(await temporaries(dir)).toEqual([]);

    const controller = new AbortController();
    const slow: BlobSource = {
      size: bytes.byteLength,
      open: () =>
        Readable.from(
          (async function* halting() {
            yield bytes.subarray(0, 100_000);
            controller.abort();
            yield bytes.subarray(100_000);
          })(),
        ),
    };
    const aborted = await rejection(layout.push(blob(bytes), slow, { signal: controller.signal }));
    expect((aborted as GhcrError).code).toBe(GhcrErrorCode.ABORTED);
    expect(await temporaries(dir)).toEqual([]);
    expect(await readdir(join(dir, 'blobs/sha256'))).toEqual([]);
  });

  it('says a damaged blob is not there (so a rerun rewrites it) and rewrites it', async () => {
    const dir = await scratch();
    const bytes = randomBytes(50_000);
    await ociLayout(dir).push(blob(bytes), bytes);
    const path = join(dir, 'blobs/sha256', digestOf(bytes).slice(7));
    const damaged = Buffer.from(bytes);
    damaged[10] = (damaged[10] ?? 0) ^ 1;
    await writeFile(path, damaged);
    const fresh = ociLayout(dir);
    expect(await fresh.exists(blob(bytes))).toBe(false);
    expect(await ociLayout(dir, { verifyExisting: false }).exists(blob(bytes))).toBe(true);
    await fresh.push(blob(bytes), bytes);
    expect(await fresh.exists(blob(bytes))).toBe(true);
    expect(await readFile(path)).toEqual(bytes);
  });

  it('refuses a directory whose oci-layout declares another version', async () => {
    const dir = await scratch();
    await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"2.0.0"}');
    const error = await rejection(ociLayout(dir).push(blob(Buffer.from('x')), Buffer.from('x')));
    expect(InvalidInputError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('only 1.x layouts');
  });

  it('writes index.json as Go does (<, > and & escaped)', () => {
    expect(goJson({ a: '<b>&', b: '\u2028' })).toBe('{"a":"\\u003cb\\u003e\\u0026","b":"\\u2028"}');
  });
});

describe('ociLayout refuses to leave its directory', () => {
  it('rejects digests that would be paths', async () => {
    const dir = await scratch();
    const layout = ociLayout(dir);
    for (const digest of [
      'sha256:../../../etc/passwd',
      'sha256/../../x:abc',
      '../sha256:abc',
      'sha256:a/b',
    ]) {
      const error = await rejection(
        layout.push(
          { mediaType: 'application/octet-stream', digest: digest as Descriptor['digest'], size: 1 },
          Buffer.from('x'),
        ),
      );
      expect(InvalidInputError.isInstance(error), digest).toBe(true);
      expect((error as GhcrError).code).toBe(GhcrErrorCode.INVALID_DIGEST);
    }
  });

  it('does not follow blobs/ or blobs/sha256 out of the layout', async () => {
    const root = await scratch();
    const outside = join(root, 'outside');
    await mkdir(outside);
    const bytes = Buffer.from('payload');
    for (const linked of ['blobs', 'blobs/sha256']) {
      const dir = join(root, `layout-${linked.replace('/', '-')}`);
      await mkdir(linked === 'blobs' ? dir : join(dir, 'blobs'), { recursive: true });
      await symlink(outside, join(dir, linked));
      const layout = ociLayout(dir);
      const error = await rejection(layout.push(blob(bytes), bytes));
      expect(InvalidInputError.isInstance(error), linked).toBe(true);
      expect((error as Error).message).toContain('outside the OCI layout');
      expect(InvalidInputError.isInstance(await rejection(layout.exists(blob(bytes))))).toBe(true);
    }
    expect(await readdir(outside)).toEqual([]);
  });

  it('allows a link that stays inside the layout', async () => {
    const dir = await scratch();
    await mkdir(join(dir, 'store'), { recursive: true });
    await mkdir(join(dir, 'blobs'));
    await symlink(join(dir, 'store'), join(dir, 'blobs/sha256'));
    const bytes = Buffer.from('inside');
    await ociLayout(dir).push(blob(bytes), bytes);
    expect(await readFile(join(dir, 'store', digestOf(bytes).slice(7)))).toEqual(bytes);
  });

  it('does not read a blob file or index.json that links out of the layout', async () => {
    const root = await scratch();
    const secret = join(root, 'secret');
    const secretBytes = Buffer.from('not yours');
    await writeFile(secret, secretBytes);
    const dir = join(root, 'layout');
    await mkdir(join(dir, 'blobs/sha256'), { recursive: true });
    await symlink(secret, join(dir, 'blobs/sha256', digestOf(secretBytes).slice(7)));
    const layout = ociLayout(dir);
    const { error } = await drain(layout.fetch(blob(secretBytes)));
    expect(InvalidInputError.isInstance(error)).toBe(true);
    expect(InvalidInputError.isInstance(await rejection(layout.exists(blob(secretBytes))))).toBe(true);

    await symlink(secret, join(dir, 'index.json'));
    expect(InvalidInputError.isInstance(await rejection(layout.resolve('v1')))).toBe(true);
  });

  it('refuses an index.json whose descriptors are not digests', async () => {
    const dir = await scratch();
    await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion": "1.0.0"}');
    await writeFile(
      join(dir, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [
          {
            mediaType: MediaType.OciManifest,
            digest: 'sha256:../../../etc/passwd',
            size: 10,
            annotations: { [OCI_REF_NAME_ANNOTATION]: 'v1' },
          },
        ],
      }),
    );
    const error = await rejection(ociLayout(dir).resolve('v1'));
    expect(GhcrError.isInstance(error)).toBe(true);
    expect((error as GhcrError).family).toBe('protocol');
  });
});
