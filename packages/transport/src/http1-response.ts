import { GhcrErrorCode, ProtocolError } from '@ghcr/oci-types';

/** A response head longer than this is refused (undici's default `maxHeaderSize` is 16 KiB). */
const MAX_HEAD_BYTES = 64 * 1024;
/** A chunk-size line or trailer line longer than this is refused. */
const MAX_LINE_BYTES = 8 * 1024;
const LF = 0x0a;

/**
 * The head of an HTTP/1.1 response, as {@link Http1ResponseParser} read it.
 * @internal
 */
export interface Http1ResponseHead {
  readonly status: number;
  /** Lower-case names; a repeated header is an array. */
  readonly headers: Record<string, string | string[]>;
  /** The connection may carry another request once this response ended. */
  readonly keepAlive: boolean;
  /** The server's `Keep-Alive: timeout=N`, in ms, when it sent one. */
  readonly keepAliveTimeoutMs: number | undefined;
}

type State =
  | 'head'
  | 'length'
  | 'until-close'
  | 'chunk-size'
  | 'chunk-data'
  | 'chunk-end'
  | 'trailers'
  | 'done';

/**
 * Reads one HTTP/1.1 response off a connection, read after read, with no copy of the body:
 * `feed(read)` hands each piece of body in the read to `onBody` as a view of that read. Framing as
 * RFC 9112 section 6.3 says: no body for a response to HEAD, for 1xx (skipped), 204 and 304;
 * chunked when the last transfer coding is chunked; else `Content-Length`; else until the server
 * closes.
 * @internal
 */
export class Http1ResponseParser {
  #state: State = 'head';
  #head = '';
  #line = '';
  #remaining = 0;
  #received = 0;
  #expected: number | undefined;
  #parsed: Http1ResponseHead | undefined;
  readonly #describe: string;
  readonly #noBody: boolean;

  /**
   * @param describe names the exchange in errors: `GET "https://…"`.
   * @param noBody the request was a HEAD: the response has no body, whatever its head announces
   * (a `Content-Length` there is the length a GET would have had).
   */
  constructor(describe: string, noBody = false) {
    this.#describe = describe;
    this.#noBody = noBody;
  }

  /** The head, once it was read. */
  get head(): Http1ResponseHead | undefined {
    return this.#parsed;
  }

  /** True once the whole response was read. */
  get done(): boolean {
    return this.#state === 'done';
  }

  /** Body bytes read so far, and the length the head announced when it did. */
  get progress(): { readonly received: number; readonly expected: number | undefined } {
    return { received: this.#received, expected: this.#expected };
  }

  /**
   * Parses one read. Calls `onHead` once the head is complete, then `onBody` for each piece of
   * body (a view of `read`, valid during the call). Returns how many bytes of `read` came after
   * the end of the response (a server sending more than one response: the connection cannot be
   * reused).
   * @throws ProtocolError on a response that is not HTTP/1.1 as RFC 9112 frames it.
   */
  feed(read: Buffer, onHead: (head: Http1ResponseHead) => void, onBody: (piece: Buffer) => void): number {
    let at = 0;
    while (at < read.length) {
      switch (this.#state) {
        case 'head': {
          const end = read.indexOf('\r\n\r\n', at, 'latin1');
          // The blank line may straddle two reads: look again from the head read so far.
          const text = read.toString('latin1', at, end === -1 ? read.length : end + 4);
          this.#head += text;
          const found = this.#head.indexOf('\r\n\r\n');
          if (found > MAX_HEAD_BYTES || (found === -1 && this.#head.length > MAX_HEAD_BYTES)) {
            throw this.#error('the response head is over 64 KiB');
          }
          if (found === -1) return 0;
          // Bytes of this read past the blank line belong to the body.
          const extra = this.#head.length - (found + 4);
          at = (end === -1 ? read.length : end + 4) - extra;
          const head = this.#head.slice(0, found);
          this.#head = '';
          this.#startBody(head, onHead);
          break;
        }
        case 'length':
        case 'chunk-data':
        case 'until-close': {
          const take =
            this.#state === 'until-close' ? read.length - at : Math.min(this.#remaining, read.length - at);
          if (take > 0) {
            this.#received += take;
            onBody(read.subarray(at, at + take));
            at += take;
          }
          if (this.#state === 'until-close') break;
          this.#remaining -= take;
          if (this.#remaining === 0) this.#state = this.#state === 'length' ? 'done' : 'chunk-end';
          break;
        }
        case 'chunk-size':
        case 'chunk-end':
        case 'trailers': {
          const lf = read.indexOf(LF, at);
          this.#line += read.toString('latin1', at, lf === -1 ? read.length : lf + 1);
          if (this.#line.length > MAX_LINE_BYTES) throw this.#error('a chunk header is over 8 KiB');
          if (lf === -1) return 0;
          at = lf + 1;
          const line = this.#line.replace(/\r?\n$/, '');
          this.#line = '';
          this.#takeLine(line);
          break;
        }
        case 'done':
          return read.length - at;
      }
    }
    return 0;
  }

  /**
   * The server closed the connection. True when that ended the response (a body delimited by the
   * close); false when the response was cut short.
   */
  closed(): boolean {
    if (this.#state === 'until-close') this.#state = 'done';
    return this.#state === 'done';
  }

  #takeLine(line: string): void {
    if (this.#state === 'chunk-end') {
      if (line !== '') throw this.#error('a chunk of the body is longer than its size says');
      this.#state = 'chunk-size';
      return;
    }
    if (this.#state === 'trailers') {
      if (line === '') this.#state = 'done';
      return;
    }
    const size = /^([0-9a-fA-F]{1,12})[ \t]*(;.*)?$/.exec(line);
    if (size === null) throw this.#error(`a chunk size is not hexadecimal: "${line.slice(0, 40)}"`);
    this.#remaining = Number.parseInt(size[1] ?? '', 16);
    this.#state = this.#remaining === 0 ? 'trailers' : 'chunk-data';
  }

  #startBody(text: string, onHead: (head: Http1ResponseHead) => void): void {
    const lines = text.split('\r\n');
    const statusLine = /^HTTP\/1\.([01]) (\d{3})(?: .*)?$/.exec(lines[0] ?? '');
    if (statusLine === null)
      throw this.#error(`the status line is not HTTP/1.x: "${(lines[0] ?? '').slice(0, 60)}"`);
    const status = Number(statusLine[2]);
    const headers: Record<string, string | string[]> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) throw this.#error(`a header line has no name: "${line.slice(0, 60)}"`);
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      const before = headers[name];
      headers[name] =
        before === undefined ? value : Array.isArray(before) ? [...before, value] : [before, value];
    }
    // 1xx (100 Continue, 103 Early Hints): an interim head; the real one follows.
    if (status >= 100 && status < 200) return;
    const one = (name: string): string | undefined => {
      const value = headers[name];
      return Array.isArray(value) ? value.join(', ') : value;
    };
    const connection = (one('connection') ?? '').toLowerCase();
    let keepAlive = statusLine[1] === '1' ? !/\bclose\b/.test(connection) : /\bkeep-alive\b/.test(connection);
    const hint = /\btimeout=(\d+)/i.exec(one('keep-alive') ?? '');
    const transferEncoding = (one('transfer-encoding') ?? '').toLowerCase();
    const contentLength = one('content-length');
    if (this.#noBody || status === 204 || status === 304) {
      this.#state = 'done';
      this.#expected = 0;
    } else if (transferEncoding !== '') {
      if (!/(^|,)\s*chunked\s*$/.test(transferEncoding)) {
        // Not chunked last: the body runs until the close (RFC 9112 section 6.3, item 4).
        this.#state = 'until-close';
        keepAlive = false;
      } else {
        this.#state = 'chunk-size';
      }
      // Both framings in one response: chunked wins, and the connection is not trusted with
      // another request (RFC 9112 section 6.3, item 3).
      if (contentLength !== undefined) keepAlive = false;
    } else if (contentLength !== undefined) {
      const lengths = new Set(contentLength.split(',').map((part) => part.trim()));
      const length = Number([...lengths][0]);
      if (lengths.size !== 1 || !/^\d+$/.test([...lengths][0] ?? '') || !Number.isSafeInteger(length)) {
        throw this.#error(`the Content-Length "${contentLength.slice(0, 40)}" is not one number`);
      }
      this.#expected = length;
      this.#remaining = length;
      this.#state = length === 0 ? 'done' : 'length';
    } else {
      this.#state = 'until-close';
      keepAlive = false;
    }
    this.#parsed = {
      status,
      headers,
      keepAlive,
      keepAliveTimeoutMs: hint === null ? undefined : Number(hint[1]) * 1000,
    };
    onHead(this.#parsed);
  }

  #error(what: string): ProtocolError {
    return new ProtocolError(
      `${this.#describe}: the server's response is not valid HTTP/1.1: ${what}; check that the address is a registry and no proxy in between rewrites responses`,
      { code: GhcrErrorCode.UNEXPECTED_RESPONSE },
    );
  }
}
