import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { DigestMismatchError, GhcrErrorCode, InvalidInputError, ProtocolError } from './errors.js';

/**
 * A content digest, `algorithm:encoded` (image-spec "Digests").
 * @public
 */
export type Digest = `${string}:${string}`;

/** Digest algorithms this library can compute. @public */
export type DigestAlgorithm = 'sha256' | 'sha512';

/** The registered algorithms and the exact shape of their encoded part (image-spec "Registered algorithms"). */
const REGISTERED: Record<DigestAlgorithm, RegExp> = {
  sha256: /^[a-f0-9]{64}$/,
  sha512: /^[a-f0-9]{128}$/,
};

/** The image-spec digest grammar: `algorithm ":" encoded`. */
const ALGORITHM_GRAMMAR = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*$/;
const ENCODED_GRAMMAR = /^[a-zA-Z0-9=_-]+$/;

/** The encoded-part shape of a registered algorithm, or undefined (never an Object.prototype member). */
function registeredShape(algorithm: string): RegExp | undefined {
  return Object.hasOwn(REGISTERED, algorithm) ? REGISTERED[algorithm as DigestAlgorithm] : undefined;
}

/**
 * The parts of a parsed digest.
 * @public
 */
export interface ParsedDigest {
  readonly algorithm: string;
  readonly encoded: string;
  readonly digest: Digest;
}

/**
 * Parses and validates a digest. The grammar is the image spec's; for the registered algorithms
 * (sha256, sha512) the encoded part must be lowercase hex of the exact length. Unregistered but
 * well-formed algorithms are accepted here (a registry may list them) and refused by
 * {@link createDigester}.
 * @throws InvalidInputError (code `GHCR_INVALID_DIGEST`) naming the bad part.
 * @public
 */
export function parseDigest(value: string): ParsedDigest {
  const fail = (problem: string): InvalidInputError =>
    new InvalidInputError(`invalid digest "${truncate(value)}": ${problem}`, {
      code: GhcrErrorCode.INVALID_DIGEST,
      input: truncate(value),
    });
  const colon = value.indexOf(':');
  if (colon < 0) {
    throw fail('it has no ":"; a digest has the form "sha256:<64 lowercase hex characters>"');
  }
  const algorithm = value.slice(0, colon);
  const encoded = value.slice(colon + 1);
  if (!ALGORITHM_GRAMMAR.test(algorithm)) {
    throw fail(
      `algorithm "${truncate(algorithm)}" is invalid: it is lowercase letters and digits, optionally joined by "+", ".", "_" or "-" (e.g. "sha256")`,
    );
  }
  if (!ENCODED_GRAMMAR.test(encoded)) {
    throw fail(
      encoded === ''
        ? `the encoded part after "${algorithm}:" is empty`
        : `the encoded part after "${algorithm}:" may hold only letters, digits, "=", "_" and "-"`,
    );
  }
  const shape = registeredShape(algorithm);
  if (shape !== undefined && !shape.test(encoded)) {
    const length = algorithm === 'sha256' ? 64 : 128;
    const problem =
      encoded.length !== length
        ? `got ${encoded.length}`
        : /[A-F]/.test(encoded)
          ? 'uppercase hex is not allowed'
          : 'it has characters other than 0-9 and a-f';
    throw fail(
      `a ${algorithm} digest has exactly ${length} lowercase hex characters after "${algorithm}:" (${problem})`,
    );
  }
  return { algorithm, encoded, digest: value as Digest };
}

/** True when `value` is a valid digest (see {@link parseDigest}). @public */
export function isDigest(value: unknown): value is Digest {
  if (typeof value !== 'string') return false;
  try {
    parseDigest(value);
    return true;
  } catch {
    return false;
  }
}

function truncate(value: string): string {
  return value.length > 80 ? `${value.slice(0, 77)}...` : value;
}

/**
 * An incremental digest computation.
 * @public
 */
export interface Digester {
  /** Feeds bytes. */
  update(chunk: Uint8Array): void;
  /** Bytes fed so far. */
  readonly size: number;
  /** The digest of everything fed. Call once. */
  digest(): Digest;
}

/**
 * Starts an incremental digest (sha256 unless told otherwise).
 * @throws InvalidInputError when the algorithm is not sha256 or sha512.
 * @public
 */
export function createDigester(algorithm: string = 'sha256'): Digester {
  if (registeredShape(algorithm) === undefined) {
    throw new InvalidInputError(
      `unsupported digest algorithm "${algorithm}": this library computes sha256 and sha512`,
      { code: GhcrErrorCode.INVALID_DIGEST, input: algorithm },
    );
  }
  const hash: Hash = createHash(algorithm);
  let size = 0;
  return {
    update(chunk) {
      hash.update(chunk);
      size += chunk.byteLength;
    },
    get size() {
      return size;
    },
    digest() {
      return `${algorithm}:${hash.digest('hex')}` as Digest;
    },
  };
}

/** The digest of `bytes` (sha256 unless told otherwise). @public */
export function digestOf(bytes: Uint8Array | string, algorithm: DigestAlgorithm = 'sha256'): Digest {
  const digester = createDigester(algorithm);
  digester.update(typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes);
  return digester.digest();
}

/**
 * Throws {@link DigestMismatchError} when `bytes` do not hash to `expected` (computed with
 * `expected`'s algorithm).
 * @public
 */
export function verifyDigest(bytes: Uint8Array, expected: string, what = 'content'): void {
  const { algorithm } = parseDigest(expected);
  const actual = digestOf(bytes, algorithm as DigestAlgorithm);
  if (actual !== expected) throw digestMismatch(what, expected, actual);
}

/**
 * The digest and size of a stream of bytes, computed as it flows (never buffered whole).
 * @public
 */
export async function digestStream(
  source: AsyncIterable<Uint8Array>,
  algorithm: DigestAlgorithm = 'sha256',
): Promise<{ digest: Digest; size: number }> {
  const digester = createDigester(algorithm);
  for await (const chunk of source) digester.update(chunk);
  return { digest: digester.digest(), size: digester.size };
}

function digestMismatch(what: string, expected: string, actual: string): DigestMismatchError {
  return new DigestMismatchError(
    `${what} failed verification: expected digest ${expected}, got ${actual}; the content was corrupted or changed in transit, retry the transfer`,
    { expected, actual },
  );
}

/**
 * Options for {@link createVerifyingStream}.
 * @public
 */
export interface VerifyingStreamOptions {
  /** The size the content must have. If omitted, only the digest is checked. */
  readonly size?: number | undefined;
  /** Names the content in error messages (e.g. `blob sha256:… of ghcr.io/o/n`). If omitted, "content". */
  readonly what?: string | undefined;
  /** Bytes already verified before this stream starts (a resumed download): the digest state is
   * not resumable, so pass a digester that has been fed them. If omitted, starts from zero. */
  readonly digester?: Digester | undefined;
  /**
   * Called with each chunk once it is hashed and within the size (e.g. to count progress without a
   * second stream stage). If omitted, nothing is called.
   */
  readonly onChunk?: ((chunk: Uint8Array) => void) | undefined;
}

/**
 * Checks content against a digest (and size) as it arrives, without a stream: feed each chunk to
 * `update` (it throws as soon as the content is larger than its size), then call `finish` (it
 * throws when the content is shorter, or hashes to another digest). For a consumer that writes
 * the bytes itself, e.g. to a temporary file it renames only once `finish` returned.
 * @public
 */
export interface ContentVerifier {
  /** Hashes `chunk`. @throws ProtocolError (`GHCR_SIZE_MISMATCH`) when past the size. */
  update(chunk: Uint8Array): void;
  /** Bytes fed so far. */
  readonly size: number;
  /**
   * The digest, once the whole content has been fed. Call once.
   * @throws ProtocolError (`GHCR_SIZE_MISMATCH`) or {@link DigestMismatchError}.
   */
  finish(): Digest;
}

/**
 * Starts a {@link ContentVerifier} for content that must hash to `expected` (with `expected`'s
 * algorithm) and, when `options.size` is given, have that many bytes.
 * @public
 */
export function createContentVerifier(
  expected: string,
  options: Pick<VerifyingStreamOptions, 'size' | 'what' | 'digester'> = {},
): ContentVerifier {
  const { algorithm } = parseDigest(expected);
  const digester = options.digester ?? createDigester(algorithm);
  const what = options.what ?? 'content';
  const limit = options.size;
  return {
    update(chunk) {
      digester.update(chunk);
      if (limit !== undefined && digester.size > limit) {
        throw new ProtocolError(
          `${what} is larger than its descriptor says: expected ${limit} bytes, received at least ${digester.size}`,
          { code: GhcrErrorCode.SIZE_MISMATCH },
        );
      }
    },
    get size() {
      return digester.size;
    },
    finish() {
      if (limit !== undefined && digester.size !== limit) {
        throw new ProtocolError(
          `${what} is shorter than its descriptor says: expected ${limit} bytes, received ${digester.size}`,
          { code: GhcrErrorCode.SIZE_MISMATCH },
        );
      }
      const actual = digester.digest();
      if (actual !== expected) throw digestMismatch(what, expected, actual);
      return actual;
    },
  };
}

/**
 * A pass-through stream that verifies digest (and size) while bytes flow. The last chunk is held
 * back until the whole content has been checked, so a consumer never receives the final byte of
 * content that turns out to be wrong: a mismatch is an error, not a complete-looking file.
 * @public
 */
export function createVerifyingStream(expected: string, options: VerifyingStreamOptions = {}): Transform {
  const verifier = createContentVerifier(expected, options);
  let held: Buffer | undefined;
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      // An empty chunk must not become the held one: the bytes before it would then be released
      // before verification, and a mismatch could surface after the consumer had every byte.
      if (chunk.byteLength === 0) {
        callback();
        return;
      }
      try {
        verifier.update(chunk);
      } catch (error) {
        callback(error as Error);
        return;
      }
      options.onChunk?.(chunk);
      const previous = held;
      held = chunk;
      callback(null, previous);
    },
    flush(callback: TransformCallback) {
      try {
        verifier.finish();
      } catch (error) {
        callback(error as Error);
        return;
      }
      callback(null, held);
    },
  });
}
