import { randomBytes } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { GhcrErrorCode } from '@ghcr/oci-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratch, tar } from '../../testing/archive-kit.js';
import { openTar } from './tar-index.js';
import { TarWriter } from './tar-writer.js';

let work: string;
beforeAll(async () => {
  work = await scratch();
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** A promise and the function that settles it. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}

async function entryBytes(path: string, name: string): Promise<Buffer> {
  const archive = await openTar(path);
  return archive.read(archive.entry(name), 1 << 30, name);
}

describe('TarWriter', () => {
  it('writes entries at once, each at the place taken when it was added', async () => {
    const path = join(work, 'at-once.tar');
    const writer = new TarWriter(path);
    const first = randomBytes(70_001);
    const second = randomBytes(1234);
    const longName = `blobs/sha256/${'a'.repeat(120)}`;
    const gate = deferred();
    const order: string[] = [];
    // The first entry waits until the second has been written whole.
    const one = writer.file('first', first.byteLength, async (handle, position) => {
      await gate.promise;
      await handle.write(first, 0, first.byteLength, position);
      order.push('first');
      return first.byteLength;
    });
    const two = writer.file(longName, second.byteLength, async (handle, position) => {
      await handle.write(second, 0, second.byteLength, position);
      order.push('second');
      return second.byteLength;
    });
    await two;
    expect(writer.has(longName)).toBe(true);
    expect(writer.has('first')).toBe(false);
    gate.resolve();
    await one;
    await writer.bytes('last', Buffer.from('{}'));
    await writer.commit();

    expect(order).toEqual(['second', 'first']);
    // GNU tar lists them in the order they were added, the long name whole.
    expect((await tar(['-tf', path])).split('\n').filter(Boolean)).toEqual(['first', longName, 'last']);
    expect((await entryBytes(path, 'first')).equals(first)).toBe(true);
    expect((await entryBytes(path, longName)).equals(second)).toBe(true);
    expect((await entryBytes(path, 'last')).toString()).toBe('{}');
    expect((await readdir(work)).filter((name) => name.includes('ghcr-tmp'))).toEqual([]);
  });

  it('writes an entry added twice once, and both callers wait for it', async () => {
    const path = join(work, 'twice.tar');
    const writer = new TarWriter(path);
    let writes = 0;
    const write = async (handle: import('node:fs/promises').FileHandle, position: number) => {
      writes += 1;
      await handle.write(Buffer.from('abc'), 0, 3, position);
      return 3;
    };
    await Promise.all([writer.file('same', 3, write), writer.file('same', 3, write)]);
    await writer.commit();
    expect(writes).toBe(1);
    expect((await tar(['-tf', path])).split('\n').filter(Boolean)).toEqual(['same']);
  });

  it('after a failed entry, commit fails naming it, and discard leaves no file', async () => {
    const path = join(work, 'failed.tar');
    const writer = new TarWriter(path);
    const good = writer.bytes('good', Buffer.from('fine'));
    const bad = writer.file('bad', 10, async () => {
      throw new Error('the source broke');
    });
    await good;
    await expect(bad).rejects.toThrow('the source broke');
    await expect(writer.commit()).rejects.toMatchObject({
      code: GhcrErrorCode.INVALID_ARCHIVE,
      message: expect.stringContaining('an earlier entry'),
      cause: expect.objectContaining({ message: 'the source broke' }),
    });
    await expect(writer.bytes('later', Buffer.from('x'))).rejects.toMatchObject({
      code: GhcrErrorCode.INVALID_ARCHIVE,
    });
    await writer.discard();
    await expect(readFile(path)).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await readdir(work)).filter((name) => name.includes('failed.tar'))).toEqual([]);
  });

  it('fails an entry whose content is not its size', async () => {
    const writer = new TarWriter(join(work, 'short.tar'));
    await expect(writer.file('short', 10, async () => 9)).rejects.toMatchObject({
      code: GhcrErrorCode.SIZE_MISMATCH,
      message: expect.stringContaining('fewer bytes than its 10'),
    });
    await writer.discard();
  });

  it('refuses a compressed name before writing anything', async () => {
    const path = join(work, 'out.tar.gz');
    const writer = new TarWriter(path);
    await expect(writer.bytes('a', Buffer.from('a'))).rejects.toMatchObject({
      message: expect.stringContaining('give a name ending in .tar'),
    });
    await writer.discard();
    expect((await readdir(work)).filter((name) => name.includes('out.tar.gz'))).toEqual([]);
  });
});
