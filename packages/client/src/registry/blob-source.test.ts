import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileSource, recycledFileChunks, ringPays } from './blob-source.js';

let work: string;
let path: string;
const bytes = randomBytes(10 * 1000 + 17);
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'ghcr-blob-source-'));
  path = join(work, 'blob.bin');
  await writeFile(path, bytes);
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('recycledFileChunks', () => {
  it('yields the file from an offset, reusing its ring of buffers in turn', async () => {
    const copies: Buffer[] = [];
    const memory: ArrayBufferLike[] = [];
    for await (const chunk of recycledFileChunks(path, 5, 2, undefined, 1000)) {
      copies.push(Buffer.from(chunk));
      memory.push(chunk.buffer);
    }
    expect(Buffer.concat(copies).equals(bytes.subarray(5))).toBe(true);
    expect(copies.map((chunk) => chunk.byteLength)).toEqual([...Array(10).fill(1000), 12]);
    // Three buffers (recycleAfter 2, plus the one being filled), used in turn.
    expect(new Set(memory).size).toBe(3);
    expect(memory[3]).toBe(memory[0]);
    expect(memory[4]).toBe(memory[1]);
  });

  it('stops after `length` bytes, the last read cut to what is left', async () => {
    const copies: Buffer[] = [];
    for await (const chunk of recycledFileChunks(path, 7, 2, undefined, 1000, 2500)) {
      copies.push(Buffer.from(chunk));
    }
    expect(copies.map((chunk) => chunk.byteLength)).toEqual([1000, 1000, 500]);
    expect(Buffer.concat(copies).equals(bytes.subarray(7, 2507))).toBe(true);
  });

  it('stops at an aborted signal', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(async () => {
      for await (const _ of recycledFileChunks(path, 0, 2, controller.signal)) {
        // nothing is read
      }
    }).rejects.toThrow('stop');
  });

  it('refuses a ring of less than one buffer', async () => {
    await expect(recycledFileChunks(path, 0, 0).next()).rejects.toThrow(/at least 1/);
  });
});

describe('ringPays', () => {
  it('reads through a ring only when the ring comes round', () => {
    expect(ringPays(5 * 1024, { recycleAfter: 4 }, 1024)).toBe(false);
    expect(ringPays(5 * 1024 + 1, { recycleAfter: 4 }, 1024)).toBe(true);
    expect(ringPays(100 * 1024, {}, 1024)).toBe(false);
  });
});

describe('fileSource', () => {
  it('gives its own buffer per chunk unless the consumer says it is done with them', async () => {
    const source = await fileSource(path);
    const kept: Buffer[] = [];
    for await (const chunk of source.open(0)) kept.push(chunk as Buffer);
    expect(Buffer.concat(kept).equals(bytes)).toBe(true);
    const recycled: Buffer[] = [];
    for await (const chunk of source.open(100, undefined, { recycleAfter: 1 })) {
      recycled.push(Buffer.from(chunk as Buffer));
    }
    expect(Buffer.concat(recycled).equals(bytes.subarray(100))).toBe(true);
  });
});
