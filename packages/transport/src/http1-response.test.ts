import { GhcrErrorCode, ProtocolError } from '@ghcr/oci-types';
import { describe, expect, it } from 'vitest';
import { type Http1ResponseHead, Http1ResponseParser } from './http1-response.js';

// The parser alone, fed the raw bytes of a response split into reads at every possible place.

const DESCRIBE = 'GET "http://registry.test/v2/o/n/blobs/sha256:x"';

interface Parsed {
  /** Every head onHead received (one per response, 1xx interim heads excluded). */
  readonly heads: Http1ResponseHead[];
  /** The body pieces, concatenated. */
  readonly body: Buffer;
  /** The sum of what each feed returned: bytes after the end of the response. */
  readonly extra: number;
  readonly done: boolean;
  readonly parser: Http1ResponseParser;
}

/** Feeds `reads` one after the other, each as a buffer of its own. */
function parse(reads: readonly Buffer[]): Parsed {
  const parser = new Http1ResponseParser(DESCRIBE);
  const heads: Http1ResponseHead[] = [];
  const pieces: Buffer[] = [];
  let extra = 0;
  for (const read of reads) {
    extra += parser.feed(
      read,
      (head) => heads.push(head),
      (piece) => {
        // The parser hands views of the read, not copies.
        const inside =
          piece.buffer === read.buffer &&
          piece.byteOffset >= read.byteOffset &&
          piece.byteOffset + piece.length <= read.byteOffset + read.length;
        if (!inside) throw new Error('a body piece is not a view of the read it came in');
        pieces.push(Buffer.from(piece));
      },
    );
  }
  return { heads, body: Buffer.concat(pieces), extra, done: parser.done, parser };
}

/** What a parse produced, as one string to compare. */
function summary(parsed: Parsed): string {
  return JSON.stringify({
    heads: parsed.heads,
    body: parsed.body.toString('base64'),
    extra: parsed.extra,
    done: parsed.done,
    progress: parsed.parser.progress,
  });
}

/** Copies of `raw` cut at `cuts` (offsets, ascending). */
function split(raw: Buffer, cuts: readonly number[]): Buffer[] {
  const reads: Buffer[] = [];
  let from = 0;
  for (const cut of [...cuts, raw.length]) {
    reads.push(Buffer.from(raw.subarray(from, cut)));
    from = cut;
  }
  return reads;
}

/** Every way to cut `raw` into 2 or 3 reads (empty reads included). */
function* everySplit(raw: Buffer): Generator<Buffer[]> {
  for (let i = 0; i <= raw.length; i++) {
    yield split(raw, [i]);
    for (let j = i; j <= raw.length; j++) yield split(raw, [i, j]);
  }
}

/**
 * Parses `raw` in one read, checks that with `check`, then parses it split into 2 and 3 reads at
 * every pair of offsets and expects each to give the very same result.
 */
function parseEverySplit(raw: string | Buffer, check: (parsed: Parsed) => void): void {
  const bytes = typeof raw === 'string' ? Buffer.from(raw, 'latin1') : raw;
  const whole = parse([bytes]);
  check(whole);
  const expected = summary(whole);
  let splits = 0;
  for (const reads of everySplit(bytes)) {
    const got = summary(parse(reads));
    // One expect on a mismatch only: tens of thousands of splits stay fast.
    if (got !== expected) {
      expect({ reads: reads.map((read) => read.length), got: JSON.parse(got) }).toEqual({
        reads: reads.map((read) => read.length),
        got: JSON.parse(expected),
      });
    }
    splits += 1;
  }
  // (n+1) + (n+1)(n+2)/2 splits: every boundary was tried.
  expect(splits).toBe(bytes.length + 1 + ((bytes.length + 1) * (bytes.length + 2)) / 2);
}

function thrown(act: () => unknown): Error {
  try {
    act();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

describe('Http1ResponseParser', () => {
  it('reads a Content-Length response split anywhere: head, lower-cased and repeated headers, body', () => {
    const body = 'hello, \r\n\r\nworld'; // A blank line inside the body is body.
    const raw =
      'HTTP/1.1 200 OK\r\n' +
      'Content-Type: application/octet-stream\r\n' +
      `Content-Length: ${body.length}\r\n` +
      'Set-Cookie: a=1\r\n' +
      'X-Spaced:   padded value  \r\n' +
      'set-cookie: b=2\r\n' +
      'Keep-Alive: timeout=5, max=100\r\n' +
      '\r\n' +
      body;
    parseEverySplit(raw, (parsed) => {
      expect(parsed.heads).toEqual([
        {
          status: 200,
          headers: {
            'content-type': 'application/octet-stream',
            'content-length': String(body.length),
            'set-cookie': ['a=1', 'b=2'],
            'x-spaced': 'padded value',
            'keep-alive': 'timeout=5, max=100',
          },
          keepAlive: true,
          keepAliveTimeoutMs: 5000,
        },
      ]);
      expect(parsed.body.toString('latin1')).toBe(body);
      expect(parsed.done).toBe(true);
      expect(parsed.extra).toBe(0);
      expect(parsed.parser.progress).toEqual({ received: body.length, expected: body.length });
    });
  });

  it('reads a body of every byte value exactly', () => {
    const body = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const raw = Buffer.concat([
      Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`, 'latin1'),
      body,
    ]);
    for (let i = 0; i <= raw.length; i++) {
      const parsed = parse(split(raw, [i]));
      expect(parsed.body.equals(body)).toBe(true);
      expect(parsed.done).toBe(true);
    }
  });

  it('reads a chunked body with chunk extensions and trailers, split anywhere', () => {
    const raw =
      'HTTP/1.1 200 OK\r\n' +
      'Transfer-Encoding: chunked\r\n' +
      'Trailer: X-Digest\r\n' +
      '\r\n' +
      '5;name=value\r\nhello\r\n' +
      '9 ; quoted="a;b"\r\n, chunked\r\n' +
      'c\r\n world\r\n\r\n!!\r\n' +
      '0;last\r\n' +
      'X-Digest: sha256:abc\r\n' +
      'X-Other: 1\r\n' +
      '\r\n';
    parseEverySplit(raw, (parsed) => {
      expect(parsed.heads).toHaveLength(1);
      expect(parsed.heads[0]).toMatchObject({ status: 200, keepAlive: true, keepAliveTimeoutMs: undefined });
      expect(parsed.heads[0]?.headers['transfer-encoding']).toBe('chunked');
      // Trailers are read past, not taken as body or headers.
      expect(parsed.heads[0]?.headers['x-digest']).toBeUndefined();
      expect(parsed.body.toString('latin1')).toBe('hello, chunked world\r\n\r\n!!');
      expect(parsed.done).toBe(true);
      expect(parsed.extra).toBe(0);
      expect(parsed.parser.progress).toEqual({ received: 26, expected: undefined });
    });
  });

  it('is not done before the last chunk and trailers end', () => {
    const raw = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n';
    const parsed = parse([Buffer.from(raw, 'latin1')]);
    expect(parsed.body.toString()).toBe('abc');
    expect(parsed.done).toBe(false);
    // The connection closing here cuts the response short.
    expect(parsed.parser.closed()).toBe(false);
  });

  it('skips 100 Continue (and 103) before the 200, split anywhere', () => {
    const raw =
      'HTTP/1.1 100 Continue\r\n\r\n' +
      'HTTP/1.1 103 Early Hints\r\nLink: </x>; rel=preload\r\n\r\n' +
      'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc';
    parseEverySplit(raw, (parsed) => {
      expect(parsed.heads).toEqual([
        { status: 200, headers: { 'content-length': '3' }, keepAlive: true, keepAliveTimeoutMs: undefined },
      ]);
      expect(parsed.body.toString()).toBe('abc');
      expect(parsed.done).toBe(true);
    });
  });

  it.each([204, 304])(
    'reads no body for %i, even with a Content-Length, and counts what follows',
    (status) => {
      const raw = `HTTP/1.1 ${status} Whatever\r\nContent-Length: 10\r\nETag: "x"\r\n\r\nHTTP/1.1`;
      parseEverySplit(raw, (parsed) => {
        expect(parsed.heads.map((head) => head.status)).toEqual([status]);
        expect(parsed.body.length).toBe(0);
        expect(parsed.done).toBe(true);
        // The bytes after the head belong to no response of this request.
        expect(parsed.extra).toBe('HTTP/1.1'.length);
        expect(parsed.parser.progress).toEqual({ received: 0, expected: 0 });
      });
    },
  );

  it('reads no body for a response to HEAD, whatever length or coding its head says, and counts what follows', () => {
    for (const framing of ['Content-Length: 10', 'Transfer-Encoding: chunked', 'X-None: 1']) {
      const raw = Buffer.from(`HTTP/1.1 200 OK\r\n${framing}\r\n\r\nHTTP/1.1`, 'latin1');
      const parser = new Http1ResponseParser(DESCRIBE, true);
      const heads: Http1ResponseHead[] = [];
      const extra = parser.feed(
        raw,
        (head) => heads.push(head),
        () => {
          throw new Error('a HEAD response has no body');
        },
      );
      expect(heads.map((head) => [head.status, head.keepAlive])).toEqual([[200, true]]);
      expect(parser.done).toBe(true);
      expect(extra).toBe('HTTP/1.1'.length);
    }
  });

  it('reads Content-Length: 0 as an empty body, done at once', () => {
    const parsed = parse([Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', 'latin1')]);
    expect(parsed.heads[0]?.keepAlive).toBe(true);
    expect(parsed.body.length).toBe(0);
    expect(parsed.done).toBe(true);
  });

  it('says keepAlive false for Connection: close, and for HTTP/1.0 without keep-alive', () => {
    const close = parse([Buffer.from('HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 1\r\n\r\nx')]);
    expect(close.heads[0]?.keepAlive).toBe(false);
    expect(close.done).toBe(true);
    const tokens = parse([
      Buffer.from('HTTP/1.1 200 OK\r\nConnection: upgrade, close\r\nContent-Length: 1\r\n\r\nx'),
    ]);
    expect(tokens.heads[0]?.keepAlive).toBe(false);
    const old = parse([Buffer.from('HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx')]);
    expect(old.heads[0]?.keepAlive).toBe(false);
    const oldKept = parse([
      Buffer.from(
        'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: timeout=2\r\nContent-Length: 1\r\n\r\nx',
      ),
    ]);
    expect(oldKept.heads[0]).toMatchObject({ keepAlive: true, keepAliveTimeoutMs: 2000 });
  });

  it('reads a body with no length until the close, then closed() ends it', () => {
    const raw = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of this, until the close';
    parseEverySplit(raw, (parsed) => {
      expect(parsed.heads[0]).toMatchObject({ status: 200, keepAlive: false });
      expect(parsed.body.toString()).toBe('all of this, until the close');
      expect(parsed.done).toBe(false);
      expect(parsed.extra).toBe(0);
      expect(parsed.parser.closed()).toBe(true);
      expect(parsed.parser.done).toBe(true);
    });
  });

  it('reads until the close when the last transfer coding is not chunked', () => {
    const parsed = parse([
      Buffer.from(
        'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\nContent-Length: 2\r\n\r\n5\r\nabcde',
      ),
    ]);
    expect(parsed.heads[0]?.keepAlive).toBe(false);
    // Not chunk-decoded, and not cut at the Content-Length: Transfer-Encoding wins.
    expect(parsed.body.toString()).toBe('5\r\nabcde');
    expect(parsed.done).toBe(false);
    expect(parsed.parser.closed()).toBe(true);
  });

  it('says a Content-Length body cut short by the close was not complete', () => {
    const parsed = parse([Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabcd')]);
    expect(parsed.body.toString()).toBe('abcd');
    expect(parsed.done).toBe(false);
    expect(parsed.parser.progress).toEqual({ received: 4, expected: 10 });
    expect(parsed.parser.closed()).toBe(false);
    expect(parsed.parser.done).toBe(false);
  });

  it('says a close before the head ended was not a response', () => {
    const parser = new Http1ResponseParser(DESCRIBE);
    const heads: Http1ResponseHead[] = [];
    expect(
      parser.feed(
        Buffer.from('HTTP/1.1 200 OK\r\nContent-Le'),
        (head) => heads.push(head),
        () => {},
      ),
    ).toBe(0);
    expect(heads).toEqual([]);
    expect(parser.head).toBeUndefined();
    expect(parser.closed()).toBe(false);
  });

  it('returns how many bytes came after the end of the response, split anywhere', () => {
    const next = 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n';
    parseEverySplit(`HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc${next}`, (parsed) => {
      expect(parsed.body.toString()).toBe('abc');
      expect(parsed.heads).toHaveLength(1);
      expect(parsed.extra).toBe(next.length);
    });
    const chunked = parse([
      Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\nXYZ'),
    ]);
    expect(chunked.body.toString()).toBe('x');
    expect(chunked.extra).toBe(3);
  });

  it('exposes the head once read', () => {
    const parser = new Http1ResponseParser(DESCRIBE);
    expect(parser.head).toBeUndefined();
    parser.feed(
      Buffer.from('HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n'),
      () => {},
      () => {},
    );
    expect(parser.head).toMatchObject({ status: 404, headers: { 'content-length': '2' } });
    expect(parser.done).toBe(false);
  });

  describe('refuses a response that is not HTTP/1.1', () => {
    const refusal = (raw: string | Buffer, reads = 1): Error => {
      const bytes = typeof raw === 'string' ? Buffer.from(raw, 'latin1') : raw;
      const size = Math.ceil(bytes.length / reads);
      const parser = new Http1ResponseParser(DESCRIBE);
      return thrown(() => {
        for (let at = 0; at < bytes.length; at += size) {
          parser.feed(
            bytes.subarray(at, at + size),
            () => {},
            () => {},
          );
        }
      });
    };
    const expectProtocolError = (error: Error, what: RegExp): void => {
      expect(ProtocolError.isInstance(error)).toBe(true);
      expect(error).toMatchObject({ code: GhcrErrorCode.UNEXPECTED_RESPONSE });
      expect(error.message).toMatch(
        /^GET "http:\/\/registry\.test\/v2\/o\/n\/blobs\/sha256:x": the server's response is not valid HTTP\/1\.1: /,
      );
      expect(error.message).toMatch(what);
    };

    it('a bad status line', () => {
      expectProtocolError(
        refusal('SSH-2.0-OpenSSH_9.6\r\n\r\n'),
        /the status line is not HTTP\/1\.x: "SSH-2\.0-OpenSSH_9\.6"/,
      );
      expectProtocolError(refusal('HTTP/2 200\r\n\r\n'), /the status line is not HTTP\/1\.x: "HTTP\/2 200"/);
      expectProtocolError(refusal('HTTP/1.1 20 OK\r\n\r\n'), /the status line is not HTTP\/1\.x/);
    });

    it('a header line without a name', () => {
      expectProtocolError(
        refusal('HTTP/1.1 200 OK\r\nno colon here\r\n\r\n'),
        /a header line has no name: "no colon here"/,
      );
    });

    it('a chunk size that is not hexadecimal, split or not', () => {
      const raw = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n';
      for (const reads of [1, 2, 5]) {
        expectProtocolError(refusal(raw, reads), /a chunk size is not hexadecimal: "zz"/);
      }
      expectProtocolError(
        refusal('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n'),
        /a chunk size is not hexadecimal: "-1"/,
      );
    });

    it('a chunk longer than its size', () => {
      expectProtocolError(
        refusal('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n'),
        /a chunk of the body is longer than its size says/,
      );
    });

    it('conflicting Content-Length values, in one header or repeated', () => {
      expectProtocolError(
        refusal('HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n'),
        /the Content-Length "5, 6" is not one number/,
      );
      expectProtocolError(
        refusal('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n'),
        /the Content-Length "5, 7" is not one number/,
      );
      expectProtocolError(
        refusal('HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n'),
        /the Content-Length "-1" is not one number/,
      );
      // The same value repeated is one number.
      const same = parse([Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nab')]);
      expect(same.body.toString()).toBe('ab');
      expect(same.done).toBe(true);
    });

    it('a head over 64 KiB, in one read or many', () => {
      const raw = `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n`;
      expectProtocolError(refusal(raw), /the response head is over 64 KiB/);
      expectProtocolError(refusal(raw, 40), /the response head is over 64 KiB/);
      // A head just under the limit is read.
      const small = `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(60 * 1024)}\r\nContent-Length: 1\r\n\r\nx`;
      expect(parse(split(Buffer.from(small), [1000, 30_000])).body.toString()).toBe('x');
    });

    it('a chunk-size line over 8 KiB', () => {
      expectProtocolError(
        refusal(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;${'x'.repeat(9000)}`),
        /a chunk header is over 8 KiB/,
      );
    });
  });

  it('refuses a head over 64 KiB however the reads cut it, whole in one read too', () => {
    const raw = `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(100 * 1024)}\r\nContent-Length: 1\r\n\r\nx`;
    expect(() => parse(split(Buffer.from(raw), [40_000, 80_000]))).toThrow(
      /the response head is over 64 KiB/,
    );
    expect(() => parse([Buffer.from(raw)])).toThrow(/the response head is over 64 KiB/);
  });

  it('reads a response with both Transfer-Encoding: chunked and Content-Length as chunked, and keeps no connection', () => {
    parseEverySplit(
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
      (parsed) => {
        expect(parsed.body.toString('latin1')).toBe('hello');
        expect(parsed.done).toBe(true);
        expect(parsed.heads[0]?.keepAlive).toBe(false);
      },
    );
  });
});
