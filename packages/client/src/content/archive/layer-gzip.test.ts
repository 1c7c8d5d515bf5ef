import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { LayerGzip, looksIncompressible } from './layer-gzip.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** Text-like bytes that deflate shrinks (a deterministic mix of words). */
function textLike(size: number, seed = 1): Buffer {
  const words = ['layer', 'usr/bin/', 'libc.so.6', 'ELF', '\n', 'config', '0000', 'manifest', ' '];
  const out = Buffer.alloc(size);
  let state = seed;
  for (let at = 0; at < size; ) {
    state = (state * 1103515245 + 12345) >>> 0;
    const word = words[state % words.length] as string;
    at += out.write(word, at, 'latin1');
  }
  return out;
}

/** Compresses `input`, written in pieces of the given sizes (cycled), and returns the gzip bytes. */
async function compress(input: Buffer, writes: readonly number[] = [64 * KiB], level = 6): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for (let at = 0, turn = 0; at < input.byteLength; turn++) {
    const size = writes[turn % writes.length] as number;
    // Each piece a copy of its own, as a file stream hands them on.
    pieces.push(Buffer.from(input.subarray(at, at + size)));
    at += size;
  }
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(pieces, { objectMode: false }),
    new LayerGzip(level),
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        out.push(chunk);
        callback();
      },
    }),
  );
  return Buffer.concat(out);
}

const sha = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

describe('LayerGzip', () => {
  it('makes gzip that zlib and the gzip tool decompress to the input, at every size around its pieces', async () => {
    const sizes = [0, 1, 100, 32 * KiB - 1, MiB - 1, MiB, MiB + 1, 3 * MiB + 512 * KiB];
    for (const size of sizes) {
      // Text, then random bytes, then text: compressed and stored pieces side by side.
      const input = Buffer.concat([
        textLike(Math.floor(size / 3)),
        randomBytes(Math.floor(size / 3)),
        textLike(size - 2 * Math.floor(size / 3), 7),
      ]);
      const zipped = await compress(input, [7 * KiB, 300 * KiB, 1]);
      expect(gunzipSync(zipped).equals(input), `${size} bytes through zlib`).toBe(true);
      const tool = spawnSync('gzip', ['-dc'], { input: zipped, maxBuffer: 16 * MiB });
      expect(tool.status, `${size} bytes through gzip: ${tool.stderr}`).toBe(0);
      expect(sha(tool.stdout)).toBe(sha(input));
    }
  });

  it('gives the same bytes however the input is cut into writes', async () => {
    const input = Buffer.concat([textLike(2 * MiB), randomBytes(MiB + 5), textLike(700 * KiB, 3)]);
    const one = await compress(input, [MiB]);
    const other = await compress(input, [13, 64 * KiB + 3, 2 * MiB]);
    expect(sha(other)).toBe(sha(one));
  });

  it('compresses text about as well as one deflate stream, and stores random bytes', async () => {
    const text = textLike(4 * MiB);
    const zipped = await compress(text);
    const single = gzipSync(text, { level: 6 });
    expect(zipped.byteLength).toBeLessThan(text.byteLength / 3);
    expect(zipped.byteLength).toBeLessThan(single.byteLength * 1.02);

    const random = randomBytes(4 * MiB);
    const stored = await compress(random);
    // Stored blocks: 5 bytes per 64 KiB at most, plus the header, flush markers and the trailer.
    expect(stored.byteLength).toBeLessThan(random.byteLength + 4 * KiB);
    expect(gunzipSync(stored).equals(random)).toBe(true);
  });

  it('fails the pipeline when its input fails, and writes nothing that looks complete', async () => {
    const out: Buffer[] = [];
    const failing = new Readable({
      read() {
        this.push(textLike(2 * MiB));
        this.destroy(new Error('disk read failed'));
      },
    });
    await expect(
      pipeline(
        failing,
        new LayerGzip(6),
        new Writable({
          write(chunk: Buffer, _encoding, callback) {
            out.push(chunk);
            callback();
          },
        }),
      ),
    ).rejects.toThrow('disk read failed');
    // No trailer: what was written does not decompress as a whole stream.
    expect(() => gunzipSync(Buffer.concat(out))).toThrow();
  });
});

describe('looksIncompressible', () => {
  it('tells random and already-compressed bytes from text, and judges too small a piece compressible', () => {
    expect(looksIncompressible(randomBytes(MiB))).toBe(true);
    // Compressed base64 of random bytes: what an archive inside a layer looks like.
    expect(looksIncompressible(gzipSync(randomBytes(2 * MiB).toString('base64')))).toBe(true);
    expect(looksIncompressible(textLike(MiB))).toBe(false);
    expect(looksIncompressible(Buffer.alloc(MiB))).toBe(false);
    expect(looksIncompressible(randomBytes(2 * KiB))).toBe(false);
  });
});
