import { createRequire } from 'node:module';
import net from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { InvalidInputError, redactUrl } from '@ghcr/oci-types';
import { attemptBody, isReplayable } from './body.js';
import { transportErrorFrom } from './dispatch.js';
import { type Http1ResponseHead, Http1ResponseParser } from './http1-response.js';
import { ReusedBufferBody } from './reused-buffer-body.js';
import type { Handler, TransportRequest, ViewBody } from './types.js';

/**
 * Bytes of each of the two buffers a connection reads every response into (the second is read
 * into while a body holds a piece of the first). 256 KiB: a loopback or LAN socket fills it in
 * one read, so a 256 MiB blob is about 1,000 reads.
 */
const READ_BUFFER_BYTES = 256 * 1024;
/**
 * `node:tls`, loaded by the first HTTPS connection: a process that speaks only plain HTTP (a
 * registry on loopback) never loads it, which saves ~5 ms of its start-up.
 */
const tlsModule = (): typeof import('node:tls') =>
  createRequire(import.meta.url)('node:tls') as typeof import('node:tls');
/** Header names and values as RFC 9110 allows them (a value may not hold CR, LF or NUL). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const BAD_VALUE = /[\r\n\0]/;
/** Headers the connection writes itself. */
const OWN_HEADERS = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive']);
/**
 * Methods HTTP calls idempotent (RFC 9110 section 9.2.2): one sent on a kept-alive connection the
 * server closed as it went out may be sent again.
 */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);
/** Methods whose request carries a body by definition: without one, `content-length: 0` says so. */
const PAYLOAD_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/** A request body as one attempt sends it: bytes at once, or a stream of them. */
type OutgoingBody = string | Uint8Array | AsyncIterable<Uint8Array | string>;

/**
 * Limits of the connections a transport opens itself.
 * @internal
 */
export interface OwnConnectionsOptions {
  /** Connections per origin. */
  readonly connections: number;
  readonly keepAliveTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly bodyTimeoutMs: number;
}

/** True when `body` can be written view by view ({@link ViewBody}). */
function isViewBody(body: AsyncIterable<Uint8Array | string>): body is ViewBody {
  return typeof (body as Partial<ViewBody>).eachView === 'function';
}

/** An error of the exchange with the code `transportErrorFrom` maps (undici's, for the same cases). */
function codedError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

/** Marks a failure on a kept-alive connection before any byte of the response came back. */
const STALE = Symbol('stale connection');

interface Exchange {
  /** One read; false pauses the socket. */
  read(view: Buffer): boolean;
  /** The server ended the connection. */
  end(): void;
  /** The socket failed. */
  fail(error: Error): void;
}

interface Origin {
  readonly key: string;
  readonly secure: boolean;
  readonly host: string;
  readonly port: number;
  readonly idle: Connection[];
  open: number;
  readonly waiting: (() => void)[];
}

/** One HTTP/1.1 connection reading every response into one buffer of its own. */
class Connection {
  readonly socket: net.Socket;
  readonly ready: Promise<void>;
  /** It carried a response before: the server may have closed it since. */
  used = false;
  #exchange: Exchange | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  /** The buffer (0 or 1) the last read went into. */
  #reading = 0;
  /** The buffer a body holds a piece of, or -1. */
  #held = -1;

  constructor(origin: Origin, options: OwnConnectionsOptions, onClosed: (connection: Connection) => void) {
    const buffers = [Buffer.allocUnsafe(READ_BUFFER_BYTES), Buffer.allocUnsafe(READ_BUFFER_BYTES)];
    const onread = {
      // Node asks before each read: the buffer a body holds is never read into.
      buffer: (): Buffer => {
        this.#reading = this.#held === 0 ? 1 : 0;
        return buffers[this.#reading] as Buffer;
      },
      callback: (length: number, buffer: Buffer): boolean => {
        const exchange = this.#exchange;
        if (exchange === undefined) {
          // Bytes nobody asked for on an idle connection: it cannot be trusted with a request.
          this.socket.destroy();
          return false;
        }
        return exchange.read(buffer.subarray(0, length));
      },
    };
    const host = origin.host;
    // tls.connect takes `onread` as net.connect does (Node's docs), though @types/node omits it.
    const secureOptions: ConnectionOptions & { readonly onread: typeof onread } = {
      host,
      port: origin.port,
      ...(net.isIP(host) === 0 ? { servername: host } : {}),
      ALPNProtocols: ['http/1.1'],
      onread,
    };
    this.socket = origin.secure
      ? tlsModule().connect(secureOptions)
      : net.connect({ host, port: origin.port, onread });
    this.socket.setNoDelay(true);
    this.ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.socket.destroy(
          codedError(
            `connecting to ${origin.key} took over ${options.connectTimeoutMs} ms`,
            'UND_ERR_CONNECT_TIMEOUT',
          ),
        );
      }, options.connectTimeoutMs);
      this.socket.once(origin.secure ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        resolve();
      });
      this.socket.once('close', () => {
        clearTimeout(timer);
        reject(codedError(`the connection to ${origin.key} closed before it was open`, 'ECONNRESET'));
      });
      this.socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    // Handled through `ready` or the exchange; never an uncaught rejection.
    this.ready.catch(() => {});
    this.socket.on('error', (error) => this.#exchange?.fail(error));
    this.socket.on('end', () => this.#exchange?.end());
    this.socket.on('close', () => {
      this.#stopIdle();
      this.#exchange?.fail(codedError('the server closed the connection', 'UND_ERR_SOCKET'));
      onClosed(this);
    });
  }

  /**
   * Sends `head`, then `outgoing` (bytes, or a stream written as the socket takes it), and reads
   * one response to it. `noBody`: the request is a HEAD.
   */
  exchange(
    head: string,
    framing: Framing,
    outgoing: OutgoingBody | undefined,
    noBody: boolean,
    describe: string,
    signal: AbortSignal | undefined,
    options: OwnConnectionsOptions,
    release: (keep: boolean, hintMs: number | undefined) => void,
  ): Promise<{ head: Http1ResponseHead; body: ReusedBufferBody }> {
    this.#stopIdle();
    const socket = this.socket;
    const used = this.used;
    this.used = true;
    return new Promise((resolve, reject) => {
      const parser = new Http1ResponseParser(describe, noBody);
      let body: ReusedBufferBody | undefined;
      let anyByte = false;
      let active = true;
      let paused = false;
      let bodyTimer: NodeJS.Timeout | undefined;
      let headTimer: NodeJS.Timeout | undefined;
      /** The whole request went to the socket (the connection may then carry another). */
      let sent = false;
      /** Wakes a request body waiting for the socket to drain. */
      let wakeWriter: (() => void) | undefined;
      const stop = (): void => {
        active = false;
        clearTimeout(headTimer);
        clearTimeout(bodyTimer);
        wakeWriter?.();
        signal?.removeEventListener('abort', onAbort);
        if (this.#exchange === exchange) this.#exchange = undefined;
      };
      /** `stale`: the socket failed (not a timeout, an abort or a bad response). */
      const fail = (error: Error, stale = false): void => {
        if (!active) return;
        stop();
        socket.destroy();
        if (body !== undefined) {
          body.fail(error);
          return;
        }
        reject(stale && used && !anyByte ? Object.assign(error, { [STALE]: true }) : error);
      };
      const onAbort = (): void => {
        const error = new Error('aborted');
        error.name = 'AbortError';
        fail(error);
      };
      const armBodyTimer = (): void => {
        if (bodyTimer === undefined) {
          bodyTimer = setTimeout(() => {
            const { received, expected } = parser.progress;
            fail(
              codedError(
                `${describe}: no byte of the body for ${options.bodyTimeoutMs} ms (${received}${expected === undefined ? '' : ` of ${expected}`} bytes arrived)`,
                'UND_ERR_BODY_TIMEOUT',
              ),
            );
          }, options.bodyTimeoutMs);
        } else bodyTimer.refresh();
      };
      /** Waits `headersTimeoutMs` for the head, from when the whole request was sent. */
      const armHeadTimer = (): void => {
        headTimer = setTimeout(() => {
          fail(
            codedError(
              `${describe}: no response head within ${options.headersTimeoutMs} ms`,
              'UND_ERR_HEADERS_TIMEOUT',
            ),
          );
        }, options.headersTimeoutMs);
      };
      const onHead = (parsed: Http1ResponseHead): void => {
        clearTimeout(headTimer);
        body = new ReusedBufferBody({
          resume: () => {
            if (!active || !paused) return;
            paused = false;
            armBodyTimer();
            socket.resume();
          },
          abort: () => fail(new Error('the response body was dropped before it ended')),
          hold: () => this.#hold(),
          release: () => {
            this.#held = -1;
          },
        });
        resolve({ head: parsed, body });
      };
      const onBody = (piece: Buffer): void => {
        if (body !== undefined && !body.deliver(piece)) paused = true;
      };
      const complete = (extra: number): void => {
        const parsed = parser.head;
        stop();
        // A response that ended before the request did (a 413 or 401 to an upload): the rest of
        // the request body is not sent, and the connection carries nothing more.
        release(extra === 0 && sent && parsed !== undefined && parsed.keepAlive, parsed?.keepAliveTimeoutMs);
        body?.end();
      };
      const exchange: Exchange = {
        read: (view) => {
          anyByte = true;
          let extra: number;
          try {
            extra = parser.feed(view, onHead, onBody);
          } catch (error) {
            fail(error as Error);
            return false;
          }
          if (parser.done) {
            complete(extra);
            return true;
          }
          if (body !== undefined) {
            if (paused) {
              clearTimeout(bodyTimer);
              bodyTimer = undefined;
              return false;
            }
            armBodyTimer();
          }
          return true;
        },
        end: () => {
          if (parser.closed()) complete(1);
          else {
            const { received, expected } = parser.progress;
            fail(
              codedError(
                body === undefined
                  ? `${describe}: the server closed the connection without a response`
                  : `${describe}: the server closed the connection after ${received}${expected === undefined ? '' : ` of ${expected}`} bytes of the body`,
                'UND_ERR_SOCKET',
              ),
              true,
            );
          }
        },
        fail: (error) => fail(error, true),
      };
      if (signal?.aborted === true) {
        onAbort();
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#exchange = exchange;
      socket.ref();
      if (socket.isPaused()) socket.resume();
      if (outgoing === undefined || typeof outgoing === 'string' || outgoing instanceof Uint8Array) {
        socket.cork();
        socket.write(head);
        if (outgoing !== undefined && outgoing.length > 0) socket.write(outgoing);
        socket.uncork();
        sent = true;
        armHeadTimer();
        return;
      }
      socket.write(head);
      const stream = outgoing;
      const { contentLength, chunked } = framing;
      /** Writes one piece of the body (framed as a chunk when chunked); the socket's `write` result. */
      const writePiece = (piece: Uint8Array, onWritten?: (error?: Error | null) => void): boolean => {
        if (!chunked) return socket.write(piece, onWritten);
        socket.cork();
        socket.write(`${piece.byteLength.toString(16)}\r\n`);
        socket.write(piece);
        const flowing = socket.write('\r\n', onWritten);
        socket.uncork();
        return flowing;
      };
      /** Fails the exchange after `bodyTimeoutMs` in which the server took no byte of the body. */
      const stallTimerFor = (bytesSent: number): NodeJS.Timeout =>
        setTimeout(() => {
          fail(
            codedError(
              `${describe}: the server took no byte of the request body for ${options.bodyTimeoutMs} ms (${bytesSent} bytes sent)`,
              'UND_ERR_BODY_TIMEOUT',
            ),
          );
        }, options.bodyTimeoutMs);
      /** The body's source ended after `written` bytes: checks the length, then waits for the answer. */
      const bodyEnded = (written: number): void => {
        if (contentLength !== undefined && written !== contentLength) {
          throw lengthMismatch(describe, written, contentLength, 'fewer');
        }
        if (chunked) socket.write('0\r\n\r\n');
        sent = true;
        if (active && parser.head === undefined) armHeadTimer();
      };
      /**
       * Writes a body read view by view: each view goes to the socket as it is. One the socket
       * could not write through to the kernel at once is held (a promise handed back for it)
       * until the socket has taken it or failed, so its buffer is not reused before. The exchange
       * stopping (a failure, a response that came first) settles that promise too: the socket is
       * then destroyed, and nothing more is written.
       */
      const writeViews = async (views: ViewBody): Promise<void> => {
        let written = 0;
        const stopped = new Error('the exchange ended before the request body was sent');
        try {
          await views.eachView((view) => {
            if (!active) throw stopped;
            if (view.byteLength === 0) return undefined;
            written += view.byteLength;
            if (contentLength !== undefined && written > contentLength) {
              throw lengthMismatch(describe, written, contentLength, 'more');
            }
            let settle: ((error?: Error | null) => void) | undefined;
            writePiece(view, (error) => settle?.(error));
            // The socket wrote it through to the kernel at once (its send buffer had room, as a
            // loopback or LAN socket's has): the view is free now.
            if (socket.writableLength === 0) return undefined;
            return new Promise<void>((resolve, reject) => {
              const timer = stallTimerFor(written - view.byteLength);
              const done = (error?: Error | null): void => {
                settle = undefined;
                clearTimeout(timer);
                if (wakeWriter === done) wakeWriter = undefined;
                if (error === undefined || error === null) resolve();
                else reject(error);
              };
              settle = done;
              wakeWriter = done;
            });
          });
          if (active) bodyEnded(written);
        } catch (error) {
          if (error !== stopped) fail(error as Error);
        }
      };
      if (isViewBody(stream)) {
        void writeViews(stream);
        return;
      }
      const writeStream = async (): Promise<void> => {
        const iterator = stream[Symbol.asyncIterator]();
        let written = 0;
        let ended = false;
        let stallTimer: NodeJS.Timeout | undefined;
        try {
          while (active) {
            const next = await iterator.next();
            if (!active) break;
            if (next.done === true) {
              ended = true;
              break;
            }
            const piece = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
            if (piece.byteLength === 0) continue;
            written += piece.byteLength;
            if (contentLength !== undefined && written > contentLength) {
              throw lengthMismatch(describe, written, contentLength, 'more');
            }
            if (!writePiece(piece) && active) {
              // The socket holds what it could not send yet: wait until it took it, or the server
              // stopped reading for `bodyTimeoutMs`.
              let onDrain: (() => void) | undefined;
              await new Promise<void>((wake) => {
                onDrain = wake;
                wakeWriter = wake;
                stallTimer = stallTimerFor(written);
                socket.once('drain', wake);
              });
              clearTimeout(stallTimer);
              if (onDrain !== undefined) socket.removeListener('drain', onDrain);
              wakeWriter = undefined;
            }
          }
          if (ended) bodyEnded(written);
        } catch (error) {
          fail(error as Error);
        } finally {
          clearTimeout(stallTimer);
          // A stream not read to its end (a failure, or a response that came first) is closed.
          if (!ended) await iterator.return?.();
        }
      };
      void writeStream().catch(() => {});
    });
  }

  /** Keeps the buffer of the last read for a body; false when one is kept already. */
  #hold(): boolean {
    if (this.#held !== -1) return false;
    this.#held = this.#reading;
    return true;
  }

  /** Parks the connection: unreferenced (it keeps no process alive) and closed after `ms` idle. */
  park(ms: number, onExpired: () => void): void {
    this.socket.unref();
    this.#idleTimer = setTimeout(onExpired, ms);
    this.#idleTimer.unref();
  }

  #stopIdle(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }
}

/**
 * The connections a transport opens itself for its requests, per origin, kept alive
 * between requests.
 * @internal
 */
export class OwnConnections {
  readonly #options: OwnConnectionsOptions;
  readonly #origins = new Map<string, Origin>();
  #closed = false;

  constructor(options: OwnConnectionsOptions) {
    this.#options = options;
  }

  /**
   * Sends `request` on a connection of the pool and resolves with its response head. `attempt`
   * is the pipeline's (a one-shot stream body cannot be sent on a later one); `timeouts`, when
   * given, replace the pool's for this request.
   */
  async send(
    request: TransportRequest,
    attempt = 0,
    timeouts?: Pick<OwnConnectionsOptions, 'headersTimeoutMs' | 'bodyTimeoutMs'>,
  ): Promise<{ head: Http1ResponseHead; body: ReusedBufferBody }> {
    if (this.#closed) {
      throw codedError(
        'the transport was closed; create a new one to send more requests',
        'UND_ERR_DESTROYED',
      );
    }
    const url = new URL(request.url);
    const method = request.method.toUpperCase();
    const describe = `${method} "${redactUrl(request.url)}"`;
    if (!TOKEN.test(method)) {
      throw new InvalidInputError(
        `the request method "${method.replace(/[^\x20-\x7e]/g, '?').slice(0, 20)}" is not an HTTP token; use GET, HEAD, POST, PUT, PATCH or DELETE`,
      );
    }
    const framing = framingFor(request);
    const head = requestHead(method, url, request.headers ?? {}, framing);
    const origin = this.#origin(url);
    const options = timeouts === undefined ? this.#options : { ...this.#options, ...timeouts };
    // Sent again on a stale connection only when sending twice is harmless and the body can be had again.
    const again = IDEMPOTENT.has(method) && isReplayable(request.body);
    for (let tries = 0; ; tries++) {
      const connection = await this.#acquire(origin, request.signal);
      try {
        return await connection.exchange(
          head,
          framing,
          attemptBody(request.body, attempt + tries, describe),
          method === 'HEAD',
          describe,
          request.signal,
          options,
          (keep, hintMs) => this.#release(origin, connection, keep, hintMs),
        );
      } catch (error) {
        // A kept-alive connection the server had closed as the request went out: once more on a
        // new one.
        if (again && tries === 0 && typeof error === 'object' && error !== null && STALE in error) continue;
        throw error;
      }
    }
  }

  /** Closes every idle connection; those in use close when their response ends. */
  close(): void {
    this.#closed = true;
    for (const origin of this.#origins.values()) {
      for (const connection of origin.idle.splice(0)) connection.socket.destroy();
    }
  }

  #origin(url: URL): Origin {
    const secure = url.protocol === 'https:';
    const port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const key = `${url.protocol}//${url.host}`;
    let origin = this.#origins.get(key);
    if (origin === undefined) {
      origin = { key, secure, host, port, idle: [], open: 0, waiting: [] };
      this.#origins.set(key, origin);
    }
    return origin;
  }

  async #acquire(origin: Origin, signal: AbortSignal | undefined): Promise<Connection> {
    for (;;) {
      signal?.throwIfAborted();
      const idle = origin.idle.pop();
      if (idle !== undefined) {
        if (!idle.socket.destroyed && idle.socket.writable) return idle;
        idle.socket.destroy();
        continue;
      }
      if (origin.open < this.#options.connections) {
        origin.open += 1;
        const connection = new Connection(origin, this.#options, (closed) => this.#closedOne(origin, closed));
        const onAbort = (): void => {
          connection.socket.destroy(Object.assign(new Error('aborted'), { name: 'AbortError' }));
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        try {
          await connection.ready;
        } finally {
          signal?.removeEventListener('abort', onAbort);
        }
        return connection;
      }
      await new Promise<void>((resolve, reject) => {
        const wake = (): void => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = (): void => {
          const at = origin.waiting.indexOf(wake);
          if (at >= 0) origin.waiting.splice(at, 1);
          reject(signal?.reason);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        origin.waiting.push(wake);
      });
    }
  }

  #release(origin: Origin, connection: Connection, keep: boolean, hintMs: number | undefined): void {
    // A server that keeps an idle connection a second or less: not worth the race with its close.
    const brief = hintMs !== undefined && hintMs <= 1000;
    if (!keep || brief || this.#closed || connection.socket.destroyed) {
      connection.socket.destroy();
      return;
    }
    // Close it a second before the server said it would, so a request never races its close.
    const ms =
      hintMs === undefined
        ? this.#options.keepAliveTimeoutMs
        : Math.min(this.#options.keepAliveTimeoutMs, hintMs - 1000);
    origin.idle.push(connection);
    connection.park(ms, () => connection.socket.destroy());
    origin.waiting.shift()?.();
  }

  #closedOne(origin: Origin, connection: Connection): void {
    origin.open -= 1;
    const at = origin.idle.indexOf(connection);
    if (at >= 0) origin.idle.splice(at, 1);
    origin.waiting.shift()?.();
  }
}

/** How a request's body is delimited: its length, or chunks. */
interface Framing {
  readonly contentLength: number | undefined;
  readonly chunked: boolean;
}

/**
 * The framing of `request`'s body: the length it gives (`contentLength`, or a `content-length`
 * header), else the bytes' own length; a stream of unknown length goes in chunks.
 */
function framingFor(request: TransportRequest): Framing {
  const { body } = request;
  const header = request.headers?.['content-length'];
  const given = request.contentLength ?? (header === undefined ? undefined : Number(header));
  if (given !== undefined && (!Number.isSafeInteger(given) || given < 0)) {
    throw new InvalidInputError(
      `${request.method} "${redactUrl(request.url)}": the body length ${String(given).slice(0, 20)} is not a whole number of bytes; pass contentLength as one, or leave it out`,
    );
  }
  if (body === undefined) {
    return { contentLength: PAYLOAD_METHODS.has(request.method.toUpperCase()) ? 0 : given, chunked: false };
  }
  if (typeof body === 'string') return { contentLength: Buffer.byteLength(body), chunked: false };
  if (body instanceof Uint8Array) return { contentLength: body.byteLength, chunked: false };
  return given === undefined
    ? { contentLength: undefined, chunked: true }
    : { contentLength: given, chunked: false };
}

/** The error of a stream body whose length is not the one the request gave. */
function lengthMismatch(describe: string, written: number, expected: number, which: string): Error {
  return codedError(
    `${describe}: the request body had ${which} bytes (${written}) than its length said (${expected}); pass the length of the bytes the body holds`,
    'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
  );
}

/** The request head: the request line, `host`, the request's headers (checked), the framing. */
function requestHead(
  method: string,
  url: URL,
  headers: Readonly<Record<string, string>>,
  framing: Framing,
): string {
  let head = `${method} ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    if (OWN_HEADERS.has(name.toLowerCase())) continue;
    if (!TOKEN.test(name) || BAD_VALUE.test(value)) {
      // The value is never quoted: it may be a credential.
      throw new InvalidInputError(
        `the request header "${name.replace(/[^\x20-\x7e]/g, '?').slice(0, 60)}" has a name or value HTTP does not allow (a line break or NUL in the value, or a character outside a token in the name); remove it`,
      );
    }
    head += `${name}: ${value}\r\n`;
  }
  if (framing.contentLength !== undefined) head += `content-length: ${framing.contentLength}\r\n`;
  else if (framing.chunked) head += 'transfer-encoding: chunked\r\n';
  return `${head}\r\n`;
}

/**
 * The terminal handler when the transport owns its connections: HTTP/1.1 on connections it opens
 * itself, each reading every response into one reused buffer (Node's `onread`) instead of a new
 * buffer per read, and handing the body on without a copy to a consumer that reads it with
 * `eachView` (docs/benchmarks.md, "Issue 18, fourth round"). Every request goes out on them, so a
 * command never starts undici ("Issue 18, tenth round").
 * @internal
 */
export function createOwnConnectionsHandler(connections: OwnConnections): Handler {
  return async (request, context) => {
    try {
      const { head, body } = await connections.send(request, context.attempt);
      return { status: head.status, headers: head.headers, body, url: redactUrl(request.url) };
    } catch (error) {
      throw transportErrorFrom(error, request);
    }
  };
}

/** True when `request` may go out on the transport's own connections: an `http:` or `https:` URL. @internal */
export function fitsOwnConnections(request: TransportRequest): boolean {
  return request.url.startsWith('https://') || request.url.startsWith('http://');
}
