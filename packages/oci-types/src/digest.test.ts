import { createHash } from 'node:crypto';
import { Readable, type Transform } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createContentVerifier,
  createDigester,
  createVerifyingStream,
  digestOf,
  digestStream,
  isDigest,
  parseDigest,
  verifyDigest,
} from './digest.js';
import { DigestMismatchError, GhcrError, InvalidInputError, ProtocolError } from './errors.js';
import { EMPTY_JSON_DIGEST } from './media-types.js';

const HEX64 = '0123456789abcdef'.repeat(4);
const HEX128 = HEX64.repeat(2);
// Known vectors (FIPS 180-2 / NIST): sha256("") and sha512("").
const SHA256_EMPTY = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const SHA512_EMPTY =
  'sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e';
const SHA256_ABC = 'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';

function errorOf(run: () => unknown): GhcrError {
  try {
    run();
  } catch (error) {
    if (GhcrError.isInstance(error)) return error;
    throw new Error(`expected a GhcrError, got ${String(error)}`);
  }
  throw new Error('expected an error, got none');
}

describe('parseDigest', () => {
  it.each([
    `sha256:${HEX64}`,
    `sha512:${HEX128}`,
    // Grammar-valid unregistered algorithms (image-spec "Digests" grammar).
    'blake3:abc',
    'multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8',
    'sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564',
    'a.b_c-d:x=y_z-',
    'x1:Z',
  ])('accepts %s', (value) => {
    const parsed = parseDigest(value);
    expect(parsed.digest).toBe(value);
    expect(`${parsed.algorithm}:${parsed.encoded}`).toBe(value);
    expect(isDigest(value)).toBe(true);
  });

  it('splits algorithm and encoded part', () => {
    expect(parseDigest(`sha256:${HEX64}`)).toEqual({
      algorithm: 'sha256',
      encoded: HEX64,
      digest: `sha256:${HEX64}`,
    });
  });

  const rejections: readonly [string, string, RegExp][] = [
    ['uppercase hex for sha256', `sha256:${HEX64.toUpperCase()}`, /uppercase hex is not allowed/],
    [
      'uppercase hex for sha512',
      `sha512:${HEX128.toUpperCase()}`,
      /sha512 digest has exactly 128 lowercase hex/,
    ],
    ['a short sha256', `sha256:${HEX64.slice(1)}`, /exactly 64 lowercase hex characters.*\(got 63\)/],
    ['a long sha256', `sha256:${HEX64}0`, /\(got 65\)/],
    ['a sha256 with a non-hex letter', `sha256:${'g'.repeat(64)}`, /characters other than 0-9 and a-f/],
    ['a sha512 with the length of a sha256', `sha512:${HEX64}`, /exactly 128 .*\(got 64\)/],
    ['no colon', HEX64, /has no ":"/],
    ['an empty string', '', /has no ":"/],
    ['an empty algorithm', `:${HEX64}`, /algorithm "" is invalid/],
    ['an uppercase algorithm', `SHA256:${HEX64}`, /algorithm "SHA256" is invalid/],
    ['a separator at the end of the algorithm', `sha256-:${HEX64}`, /algorithm "sha256-" is invalid/],
    ['two separators in a row', `sha+-256:${HEX64}`, /algorithm "sha\+-256" is invalid/],
    ['a bad character in the algorithm', `sha/256:${HEX64}`, /algorithm "sha\/256" is invalid/],
    ['an empty encoded part', 'sha256:', /encoded part after "sha256:" is empty/],
    ['a second colon', `sha256:${HEX64}:x`, /encoded part after "sha256:" may hold only/],
    ['a bad character in the encoded part', 'blake3:ab+c', /encoded part after "blake3:" may hold only/],
    ['white space', ` sha256:${HEX64}`, /algorithm " sha256" is invalid/],
  ];

  it.each(rejections)('rejects %s, naming the problem', (_what, value, message) => {
    const error = errorOf(() => parseDigest(value));
    expect(InvalidInputError.isInstance(error)).toBe(true);
    expect(error.code).toBe('GHCR_INVALID_DIGEST');
    expect(error.message).toMatch(/^invalid digest "/);
    expect(error.message).toMatch(message);
    expect(isDigest(value)).toBe(false);
  });

  it('does not treat Object.prototype members as registered algorithms', () => {
    // "constructor" is a grammar-valid algorithm name; it must not find Object's constructor.
    expect(parseDigest('constructor:abc').algorithm).toBe('constructor');
    expect(parseDigest('tostring:abc').algorithm).toBe('tostring');
  });

  it('truncates a very long input in the message', () => {
    const error = errorOf(() => parseDigest(`sha256:${'a'.repeat(10_000)}`));
    expect(error.message.length).toBeLessThan(400);
    expect((error as InvalidInputError).input?.length).toBeLessThanOrEqual(80);
  });

  it('isDigest is false for non-strings', () => {
    for (const value of [undefined, null, 42, {}, [`sha256:${HEX64}`]]) expect(isDigest(value)).toBe(false);
  });

  it('accepts every sha256 that node:crypto produces (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
        const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
        expect(parseDigest(digest).digest).toBe(digest);
        expect(digestOf(bytes)).toBe(digest);
      }),
    );
  });
});

describe('digestOf', () => {
  it('computes known vectors', () => {
    expect(digestOf('')).toBe(SHA256_EMPTY);
    expect(digestOf(new Uint8Array())).toBe(SHA256_EMPTY);
    expect(digestOf('abc')).toBe(SHA256_ABC);
    expect(digestOf('', 'sha512')).toBe(SHA512_EMPTY);
    expect(digestOf('{}')).toBe(EMPTY_JSON_DIGEST);
    expect(digestOf(new Uint8Array([0x7b, 0x7d]))).toBe(EMPTY_JSON_DIGEST);
  });

  it('hashes strings as UTF-8', () => {
    expect(digestOf('é')).toBe(digestOf(new Uint8Array([0xc3, 0xa9])));
  });
});

describe('createDigester', () => {
  it('computes incrementally, counting bytes', () => {
    const digester = createDigester();
    digester.update(new TextEncoder().encode('a'));
    digester.update(new TextEncoder().encode('bc'));
    digester.update(new Uint8Array());
    expect(digester.size).toBe(3);
    expect(digester.digest()).toBe(SHA256_ABC);
  });

  it('computes sha512', () => {
    expect(createDigester('sha512').digest()).toBe(SHA512_EMPTY);
  });

  it.each(['md5', 'sha1', 'blake3', 'SHA256', 'constructor', 'tostring', ''])(
    'refuses the non-registered algorithm %j with an InvalidInputError',
    (algorithm) => {
      const error = errorOf(() => createDigester(algorithm));
      expect(InvalidInputError.isInstance(error)).toBe(true);
      expect(error.code).toBe('GHCR_INVALID_DIGEST');
      expect(error.message).toContain(`unsupported digest algorithm "${algorithm}"`);
      expect(error.message).toContain('sha256 and sha512');
    },
  );
});

describe('verifyDigest', () => {
  const bytes = new TextEncoder().encode('abc');

  it('passes matching content', () => {
    expect(() => verifyDigest(bytes, SHA256_ABC)).not.toThrow();
    expect(() => verifyDigest(bytes, digestOf(bytes, 'sha512'))).not.toThrow();
  });

  it('throws DigestMismatchError naming both digests', () => {
    const error = errorOf(() => verifyDigest(bytes, SHA256_EMPTY, 'blob of ghcr.io/o/n'));
    expect(DigestMismatchError.isInstance(error)).toBe(true);
    expect(ProtocolError.isInstance(error)).toBe(true);
    expect(error.code).toBe('GHCR_DIGEST_MISMATCH');
    const mismatch = error as DigestMismatchError;
    expect(mismatch.expected).toBe(SHA256_EMPTY);
    expect(mismatch.actual).toBe(SHA256_ABC);
    expect(error.message).toContain(SHA256_EMPTY);
    expect(error.message).toContain(SHA256_ABC);
    expect(error.message).toMatch(/^blob of ghcr\.io\/o\/n failed verification/);
  });

  it('uses the expected digest’s algorithm', () => {
    const error = errorOf(() => verifyDigest(bytes, SHA512_EMPTY)) as DigestMismatchError;
    expect(error.actual).toBe(digestOf(bytes, 'sha512'));
  });

  it('refuses a malformed expected digest before hashing', () => {
    expect(errorOf(() => verifyDigest(bytes, 'sha256:nope')).code).toBe('GHCR_INVALID_DIGEST');
    expect(InvalidInputError.isInstance(errorOf(() => verifyDigest(bytes, 'blake3:abc')))).toBe(true);
  });
});

async function* chunksOf(parts: readonly (string | Uint8Array)[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield typeof part === 'string' ? new TextEncoder().encode(part) : part;
}

describe('digestStream', () => {
  it('digests and counts a stream without buffering it whole', async () => {
    expect(await digestStream(chunksOf(['a', 'b', '', 'c']))).toEqual({ digest: SHA256_ABC, size: 3 });
    expect(await digestStream(chunksOf([]))).toEqual({ digest: SHA256_EMPTY, size: 0 });
    expect(await digestStream(chunksOf([]), 'sha512')).toEqual({ digest: SHA512_EMPTY, size: 0 });
  });

  it('agrees with digestOf for any chunking (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 10 }), async (chunks) => {
        const whole = Buffer.concat(chunks);
        const result = await digestStream(chunksOf(chunks));
        expect(result).toEqual({ digest: digestOf(whole), size: whole.byteLength });
      }),
    );
  });

  it('reads a Node Readable', async () => {
    expect((await digestStream(Readable.from([Buffer.from('ab'), Buffer.from('c')]))).digest).toBe(
      SHA256_ABC,
    );
  });
});

/**
 * Writes `chunks` into the stream one by one (empty chunks included, which a Readable source would
 * drop), and returns what the consumer received and the error, if any.
 */
async function runThrough(
  stream: Transform,
  chunks: readonly Uint8Array[],
): Promise<{ received: Buffer; error: unknown }> {
  const received: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => received.push(chunk));
  stream.on('error', () => {}); // Reported through `settled`; a late second error must not crash.
  const settled = new Promise<unknown>((resolve) => {
    stream.once('end', () => resolve(undefined));
    stream.once('error', (error) => resolve(error));
  });
  for (const chunk of chunks) {
    if (stream.destroyed) break;
    stream.write(Buffer.from(chunk));
  }
  stream.end();
  const error = await settled;
  return { received: Buffer.concat(received), error };
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('createContentVerifier', () => {
  const enc = (text: string): Uint8Array => Buffer.from(text, 'utf8');

  it('returns the digest of content that matches, fed in any pieces', () => {
    const verifier = createContentVerifier(digestOf('hello world'), { size: 11 });
    verifier.update(enc('hello '));
    verifier.update(enc('world'));
    expect(verifier.size).toBe(11);
    expect(verifier.finish()).toBe(digestOf('hello world'));
  });

  it('throws DigestMismatchError naming both digests when the content differs', () => {
    const verifier = createContentVerifier(digestOf('hello world'), { what: 'blob x' });
    verifier.update(enc('hello there'));
    let caught: unknown;
    try {
      verifier.finish();
    } catch (error) {
      caught = error;
    }
    expect(DigestMismatchError.isInstance(caught)).toBe(true);
    expect((caught as DigestMismatchError).actual).toBe(digestOf('hello there'));
    expect((caught as Error).message).toContain('blob x failed verification');
  });

  it('throws SIZE_MISMATCH at the first byte past the size, and at the end when short', () => {
    const long = createContentVerifier(digestOf('abc'), { size: 3 });
    long.update(enc('ab'));
    expect(() => long.update(enc('cd'))).toThrow(/larger than its descriptor says: expected 3 bytes/);
    const short = createContentVerifier(digestOf('abc'), { size: 3 });
    short.update(enc('ab'));
    expect(() => short.finish()).toThrow(/shorter than its descriptor says: expected 3 bytes, received 2/);
  });
});

describe('createVerifyingStream', () => {
  const content = ['first chunk|', 'second chunk|', 'third chunk|', 'last'];
  const total = Buffer.from(content.join(''));
  const good = digestOf(total);

  it('passes correct multi-chunk content through unchanged', async () => {
    const { received, error } = await runThrough(
      createVerifyingStream(good, { size: total.byteLength }),
      content.map(enc),
    );
    expect(error).toBeUndefined();
    expect(received.equals(total)).toBe(true);
  });

  it('passes content through for any chunking (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 32 }), { maxLength: 8 }), async (chunks) => {
        const whole = Buffer.concat(chunks);
        const { received, error } = await runThrough(
          createVerifyingStream(digestOf(whole), { size: whole.byteLength }),
          chunks,
        );
        expect(error).toBeUndefined();
        expect(received.equals(whole)).toBe(true);
      }),
    );
  });

  it('errors on a mismatch without ever emitting the final chunk', async () => {
    const corrupted = [...content.slice(0, -1), 'LAST'].map(enc);
    const { received, error } = await runThrough(
      createVerifyingStream(good, { size: total.byteLength, what: 'blob sha256:… of ghcr.io/o/n' }),
      corrupted,
    );
    expect(DigestMismatchError.isInstance(error)).toBe(true);
    const mismatch = error as DigestMismatchError;
    expect(mismatch.expected).toBe(good);
    expect(mismatch.actual).toBe(digestOf(Buffer.concat(corrupted)));
    expect(mismatch.message).toMatch(/^blob sha256:… of ghcr\.io\/o\/n failed verification/);
    expect(received.byteLength).toBeLessThan(total.byteLength);
    expect(received.byteLength).toBe(total.byteLength - 'last'.length);
  });

  it('hands each hashed chunk to onChunk, skipping empty ones and none past the size', async () => {
    const seen: string[] = [];
    const chunks = [enc('abc'), new Uint8Array(), enc('def')];
    const whole = Buffer.from('abcdef');
    const { error } = await runThrough(
      createVerifyingStream(digestOf(whole), {
        size: 6,
        onChunk: (chunk) => seen.push(Buffer.from(chunk).toString()),
      }),
      chunks,
    );
    expect(error).toBeUndefined();
    expect(seen).toEqual(['abc', 'def']);

    seen.length = 0;
    const { error: tooLong } = await runThrough(
      createVerifyingStream(digestOf(whole), {
        size: 4,
        onChunk: (chunk) => seen.push(Buffer.from(chunk).toString()),
      }),
      chunks,
    );
    expect(ProtocolError.isInstance(tooLong)).toBe(true);
    expect(seen).toEqual(['abc']);
  });

  it('holds back the final bytes even when empty chunks trail the content', async () => {
    const chunks = [enc('abc'), enc('def'), new Uint8Array(), new Uint8Array()];
    const { received, error } = await runThrough(createVerifyingStream(SHA256_EMPTY), chunks);
    expect(DigestMismatchError.isInstance(error)).toBe(true);
    expect(received.byteLength).toBeLessThan(6);
  });

  it('never delivers all bytes of wrong content, for any chunking (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 16 }), { minLength: 1, maxLength: 8 }),
        async (chunks) => {
          const whole = Buffer.concat(chunks);
          fc.pre(whole.byteLength > 0);
          const { received, error } = await runThrough(
            createVerifyingStream(digestOf('something else')),
            chunks,
          );
          expect(DigestMismatchError.isInstance(error)).toBe(true);
          expect(received.byteLength).toBeLessThan(whole.byteLength);
        },
      ),
    );
  });

  it('errors as soon as more bytes arrive than the size allows', async () => {
    const { received, error } = await runThrough(createVerifyingStream(good, { size: 5 }), content.map(enc));
    expect(ProtocolError.isInstance(error)).toBe(true);
    expect(DigestMismatchError.isInstance(error)).toBe(false);
    expect((error as ProtocolError).code).toBe('GHCR_SIZE_MISMATCH');
    expect((error as ProtocolError).message).toMatch(/larger than its descriptor says: expected 5 bytes/);
    expect(received.byteLength).toBe(0);
  });

  it('errors when fewer bytes arrive than the size says, even if the digest matches', async () => {
    const { received, error } = await runThrough(
      createVerifyingStream(good, { size: total.byteLength + 1 }),
      content.map(enc),
    );
    expect((error as ProtocolError).code).toBe('GHCR_SIZE_MISMATCH');
    expect((error as ProtocolError).message).toMatch(
      new RegExp(
        `shorter than its descriptor says: expected ${total.byteLength + 1} bytes, received ${total.byteLength}`,
      ),
    );
    expect(received.byteLength).toBeLessThan(total.byteLength);
  });

  it('verifies sha512 content', async () => {
    const { received, error } = await runThrough(
      createVerifyingStream(digestOf(total, 'sha512')),
      content.map(enc),
    );
    expect(error).toBeUndefined();
    expect(received.equals(total)).toBe(true);
  });

  it('verifies empty content', async () => {
    const { received, error } = await runThrough(createVerifyingStream(SHA256_EMPTY, { size: 0 }), []);
    expect(error).toBeUndefined();
    expect(received.byteLength).toBe(0);
  });

  it('resumes from a digester that has seen the first bytes', async () => {
    const digester = createDigester();
    digester.update(enc('first chunk|'));
    const { received, error } = await runThrough(
      createVerifyingStream(good, { size: total.byteLength, digester }),
      content.slice(1).map(enc),
    );
    expect(error).toBeUndefined();
    expect(received.toString()).toBe(content.slice(1).join(''));
  });

  it('refuses a malformed or non-computable expected digest up front', () => {
    expect(errorOf(() => createVerifyingStream('sha256:zz')).code).toBe('GHCR_INVALID_DIGEST');
    expect(errorOf(() => createVerifyingStream('blake3:abc')).message).toContain(
      'unsupported digest algorithm "blake3"',
    );
  });
});
