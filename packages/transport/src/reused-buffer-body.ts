import { Readable } from 'node:stream';
import type { ResponseBody, ViewConsumer } from './types.js';

/** Bytes the body buffers ahead of a stream consumer before the connection stops reading. */
const STREAM_BUFFER_BYTES = 256 * 1024;
/** What `dump()` reads to keep a connection for the next request; past it, it closes it. */
const DUMP_LIMIT_BYTES = 128 * 1024;

/**
 * How the body steers the connection it comes from.
 * @internal
 */
export interface BodyConnection {
  /** Start reading again (after `deliver` returned false). */
  resume(): void;
  /** Stop reading for good and close the connection: the body is dropped, or failed. */
  abort(error: Error | undefined): void;
  /**
   * Keeps the buffer of the piece being delivered: the connection reads into its other buffer
   * until `release()`. False when it already keeps one (the piece must then be copied).
   */
  hold(): boolean;
  /** Gives back the buffer `hold()` kept. */
  release(): void;
}

/** A piece kept for later: a copy, or a view of a buffer the connection holds for it. */
interface Kept {
  readonly bytes: Buffer;
  readonly held: boolean;
}

/**
 * The body of a response read into reused buffers (see `createOwnConnectionsHandler`). The
 * connection hands it each piece of body with `deliver(view)`, a view valid only during the call
 * unless the body holds its buffer (`hold()`: the connection then reads into its other one).
 * Read it either as a stream (each piece is then copied into a buffer of its own, as a socket
 * would have allocated) or with {@link ReusedBufferBody.eachView}, which hands the views on
 * without a copy, each valid until the consumer returns or, when it returns a promise, until that
 * settles. A piece that arrives while the consumer is not ready for it (before it chose a way to
 * read, or while its last promise is pending) is kept: in its held buffer when it can be, else as
 * a copy.
 * @internal
 */
export class ReusedBufferBody extends Readable implements ResponseBody {
  readonly #connection: BodyConnection;
  #mode: 'unset' | 'stream' | 'views' = 'unset';
  #consumer: ViewConsumer | undefined;
  #waiting = false;
  #queued: Kept[] = [];
  #ended = false;
  #settle: { resolve(): void; reject(error: Error): void } | undefined;

  constructor(connection: BodyConnection) {
    super({ highWaterMark: STREAM_BUFFER_BYTES });
    this.#connection = connection;
    // Every way of reading learns of a failure without this event (eachView's promise,
    // `finished`, async iteration, `pipeline`); a failure before anyone reads must not be an
    // uncaught 'error'.
    this.on('error', () => {});
  }

  /**
   * A piece of the body, valid during the call. Returns false when the connection must stop
   * reading until `resume()`.
   */
  deliver(view: Buffer): boolean {
    if (this.destroyed) return false;
    if (this.#mode === 'unset' || this.#waiting || this.#queued.length > 0) {
      this.#queued.push(
        this.#connection.hold() ? { bytes: view, held: true } : { bytes: Buffer.from(view), held: false },
      );
      return false;
    }
    if (this.#mode === 'stream') return this.push(Buffer.from(view));
    return this.#connection.hold()
      ? this.#offer({ bytes: view, held: true })
      : this.#offer({ bytes: Buffer.from(view), held: false });
  }

  /** The whole body was delivered. */
  end(): void {
    this.#ended = true;
    if (this.#waiting || this.#queued.length > 0 || this.#mode === 'unset') return;
    this.#finish();
  }

  /** The connection failed before the body ended. */
  fail(error: Error): void {
    this.destroy(error);
  }

  /**
   * Hands each piece of the body to `onView` without a copy; resolves once the body ended and the
   * promise the last call returned settled. Call it at most once, before reading the body any
   * other way.
   */
  eachView(onView: ViewConsumer): Promise<void> {
    if (this.#mode !== 'unset') {
      return Promise.reject(new Error('the response body is already being read; eachView must come first'));
    }
    this.#mode = 'views';
    this.#consumer = onView;
    return new Promise<void>((resolve, reject) => {
      if (this.destroyed) {
        reject(this.errored ?? new Error('the response body was destroyed before it was read'));
        return;
      }
      this.#settle = { resolve, reject };
      this.#drain();
    });
  }

  override _read(): void {
    if (this.#mode === 'unset') this.#mode = 'stream';
    if (this.#mode !== 'stream') return;
    while (this.#queued.length > 0) {
      const piece = this.#queued.shift() as Kept;
      const pushed = this.push(piece.held ? Buffer.from(piece.bytes) : piece.bytes);
      if (piece.held) this.#connection.release();
      if (!pushed) return;
    }
    if (this.#ended) this.push(null);
    else this.#connection.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.#queued.some((piece) => piece.held)) this.#connection.release();
    this.#queued = [];
    if (!this.#ended) this.#connection.abort(error ?? undefined);
    const settle = this.#settle;
    this.#settle = undefined;
    settle?.reject(error ?? new Error('the response body was destroyed before it ended'));
    callback(error);
  }

  async text(): Promise<string> {
    return (await this.#collect()).toString('utf8');
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text()) as unknown;
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = await this.#collect();
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }

  /**
   * Reads and drops the rest of the body, so the connection can carry the next request; a body
   * longer than `limit` (128 KiB if omitted) is cut off instead, closing the connection.
   */
  async dump(options: { limit?: number } = {}): Promise<void> {
    if (this.destroyed || this.#mode !== 'unset') {
      this.destroy();
      return;
    }
    const limit = options.limit ?? DUMP_LIMIT_BYTES;
    let seen = 0;
    const tooLong = new Error('dumped');
    try {
      await this.eachView((view) => {
        seen += view.length;
        if (seen > limit) throw tooLong;
        return undefined;
      });
    } catch {
      // Cut off (or failed): the connection is closed either way.
    }
  }

  async #collect(): Promise<Buffer> {
    const pieces: Buffer[] = [];
    await this.eachView((view) => {
      pieces.push(Buffer.from(view));
      return undefined;
    });
    return Buffer.concat(pieces);
  }

  /**
   * Gives `piece` to the consumer; false when it asked to wait. A held buffer is given back once
   * the consumer is done with the view: when it returns, or when the promise it returned settles.
   */
  #offer(piece: Kept): boolean {
    let pending: Promise<void> | undefined;
    try {
      pending = this.#consumer?.(piece.bytes);
    } catch (error) {
      if (piece.held) this.#connection.release();
      this.destroy(error as Error);
      return false;
    }
    if (pending === undefined) {
      if (piece.held) this.#connection.release();
      return true;
    }
    this.#waiting = true;
    pending.then(
      () => {
        if (piece.held) this.#connection.release();
        this.#waiting = false;
        this.#drain();
      },
      (error: unknown) => {
        if (piece.held) this.#connection.release();
        this.#waiting = false;
        this.destroy(error as Error);
      },
    );
    return false;
  }

  /** Gives the consumer what was kept, then reads on (or finishes). */
  #drain(): void {
    while (this.#queued.length > 0) {
      if (this.destroyed) return;
      const piece = this.#queued.shift() as Kept;
      if (!this.#offer(piece)) return;
    }
    if (this.destroyed) return;
    if (this.#ended) this.#finish();
    else this.#connection.resume();
  }

  #finish(): void {
    if (this.#mode === 'views') {
      const settle = this.#settle;
      this.#settle = undefined;
      // A stream that is never read still ends, so `finished()` and `close` listeners fire.
      this.push(null);
      this.resume();
      settle?.resolve();
    } else {
      this.push(null);
    }
  }
}
