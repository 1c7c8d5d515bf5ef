import { Transform, type TransformCallback } from 'node:stream';
import { zlib } from './tar-index.js';

/** Bytes of input compressed as one piece, each on a thread of the libuv pool. */
const PIECE_BYTES = 1024 * 1024;
/** deflate's window: each piece is compressed with the 32 KiB before it as its dictionary. */
const WINDOW_BYTES = 32 * 1024;
/** Pieces being compressed at once (the libuv pool's default size). */
const IN_FLIGHT = 4;
/** A piece whose sampled bytes carry more than this many bits each is stored, not compressed. */
const INCOMPRESSIBLE_BITS_PER_BYTE = 7.9;
/** The sample: this many runs of {@link SAMPLE_RUN_BYTES}, spread over the piece. */
const SAMPLE_RUNS = 16;
const SAMPLE_RUN_BYTES = 256;

/** The 10-byte gzip header: deflate, no name, no modification time, OS byte 3 (Unix), as zlib writes it. */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03]);

/**
 * Whether `piece` looks like bytes deflate cannot shrink (already compressed or random): the
 * Shannon entropy of a sample of 4 KiB taken in 16 runs across it. deflate at any level spends
 * as long on such bytes as on text and gains nothing (about 40 MB/s here, against 300 MB/s for
 * text); stored, they cost a copy.
 * @internal
 */
export function looksIncompressible(piece: Uint8Array): boolean {
  const counts = new Uint32Array(256);
  let sampled = 0;
  if (piece.byteLength <= SAMPLE_RUNS * SAMPLE_RUN_BYTES) {
    for (const byte of piece) counts[byte] = (counts[byte] ?? 0) + 1;
    sampled = piece.byteLength;
  } else {
    const stride = Math.floor((piece.byteLength - SAMPLE_RUN_BYTES) / (SAMPLE_RUNS - 1));
    for (let run = 0; run < SAMPLE_RUNS; run++) {
      const start = run * stride;
      for (let at = start; at < start + SAMPLE_RUN_BYTES; at++) {
        const byte = piece[at] as number;
        counts[byte] = (counts[byte] ?? 0) + 1;
      }
    }
    sampled = SAMPLE_RUNS * SAMPLE_RUN_BYTES;
  }
  // Too few bytes to tell: compress them.
  if (sampled < SAMPLE_RUNS * SAMPLE_RUN_BYTES) return false;
  let bits = 0;
  for (const count of counts) {
    if (count === 0) continue;
    const p = count / sampled;
    bits -= p * Math.log2(p);
  }
  return bits > INCOMPRESSIBLE_BITS_PER_BYTE;
}

/**
 * A gzip stream (one member, RFC 1952) made of 1 MiB pieces deflated independently, in order, up
 * to 4 at a time on libuv's thread pool (where there are cores for them), as pigz and Go's pgzip
 * do: every piece but the last ends with a sync flush, and each is compressed with the 32 KiB
 * before it as its dictionary, so the ratio is close to one deflate stream's. A piece that looks
 * incompressible (see {@link looksIncompressible}) is stored. The output depends only on the input
 * and the level: compressing the same bytes again gives the same digest.
 * @internal
 */
export class LayerGzip extends Transform {
  readonly #level: number;
  readonly #pending: Buffer[] = [];
  #pendingBytes = 0;
  #crc = 0;
  #size = 0;
  #window: Buffer | undefined;
  readonly #inFlight: Promise<Buffer>[] = [];

  constructor(level: number) {
    super();
    this.#level = level;
    // A copy of its own: the consumer owns what is pushed.
    this.push(Buffer.from(GZIP_HEADER));
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#take(chunk).then(() => callback(), callback);
  }

  override _flush(callback: TransformCallback): void {
    this.#finish().then(() => callback(), callback);
  }

  async #take(chunk: Buffer): Promise<void> {
    const zlibModule = zlib();
    this.#crc = zlibModule.crc32(chunk, this.#crc);
    this.#size += chunk.byteLength;
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.byteLength;
    while (this.#pendingBytes >= PIECE_BYTES) {
      this.#submit(this.#cut(PIECE_BYTES), false);
      while (this.#inFlight.length >= IN_FLIGHT) await this.#pushOldest();
    }
  }

  async #finish(): Promise<void> {
    this.#submit(this.#cut(this.#pendingBytes), true);
    while (this.#inFlight.length > 0) await this.#pushOldest();
    if (this.destroyed) return;
    const trailer = Buffer.allocUnsafe(8);
    trailer.writeUInt32LE(this.#crc >>> 0, 0);
    trailer.writeUInt32LE(this.#size % 2 ** 32, 4);
    this.push(trailer);
  }

  /** Waits for the oldest piece in flight and hands its deflate output on, in order. */
  async #pushOldest(): Promise<void> {
    const output = await (this.#inFlight.shift() as Promise<Buffer>);
    if (!this.destroyed) this.push(output);
  }

  /** The first `bytes` of what is pending, as one buffer of its own. */
  #cut(bytes: number): Buffer {
    const whole = this.#pending.length === 1 ? (this.#pending[0] as Buffer) : Buffer.concat(this.#pending);
    const piece = whole.subarray(0, bytes);
    const rest = whole.subarray(bytes);
    this.#pending.length = 0;
    if (rest.byteLength > 0) this.#pending.push(rest);
    this.#pendingBytes = rest.byteLength;
    return piece;
  }

  #submit(piece: Buffer, last: boolean): void {
    const zlibModule = zlib();
    const store = looksIncompressible(piece);
    const dictionary = store ? undefined : this.#window;
    this.#window =
      piece.byteLength >= WINDOW_BYTES ? piece.subarray(piece.byteLength - WINDOW_BYTES) : undefined;
    const { Z_FINISH, Z_SYNC_FLUSH } = zlibModule.constants;
    const job = new Promise<Buffer>((resolve, reject) => {
      zlibModule.deflateRaw(
        piece,
        {
          level: store ? 0 : this.#level,
          // Room for the whole piece's output (stored blocks add 5 bytes per 64 KiB), so zlib
          // fills one buffer: with its 16 KiB default, each piece came back in 64 calls to the
          // main thread and as many buffers to collect.
          chunkSize: PIECE_BYTES + 64 * 1024,
          finishFlush: last ? Z_FINISH : Z_SYNC_FLUSH,
          ...(dictionary === undefined ? {} : { dictionary }),
        },
        (error, output) => (error === null ? resolve(output) : reject(error)),
      );
    });
    // A stream destroyed while pieces are in flight never waits for them: their failures must
    // not surface as unhandled rejections. Waiting on `job` still sees the failure.
    job.catch(() => {});
    this.#inFlight.push(job);
  }
}
