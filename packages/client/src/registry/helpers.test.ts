import { Readable } from 'node:stream';
import { UploadError } from '@ghcr/oci-types';
import { describe, expect, it } from 'vitest';
import { createClientEvents } from '../events.js';
import { offsetFromRange } from './blob-upload.js';
import { ChunkReader } from './chunk-reader.js';
import { mapLimit } from './concurrency.js';
import { nextLink } from './link-header.js';
import { appendQuery, resolveLocation } from './urls.js';

async function collect(iterable: AsyncIterable<Uint8Array>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const piece of iterable) parts.push(Buffer.from(piece));
  return Buffer.concat(parts).toString('utf8');
}

describe('upload URLs', () => {
  it('appends digest to a Location that already has a query, keeping it byte for byte', () => {
    expect(appendQuery('http://r/v2/a/blobs/uploads/1?_state=ab%3D%3D', 'digest', 'sha256:00')).toBe(
      'http://r/v2/a/blobs/uploads/1?_state=ab%3D%3D&digest=sha256%3A00',
    );
    expect(appendQuery('https://r/v2/a/blobs/uploads/1', 'digest', 'sha256:00')).toBe(
      'https://r/v2/a/blobs/uploads/1?digest=sha256%3A00',
    );
    expect(appendQuery('https://r/u?', 'digest', 'd')).toBe('https://r/u?digest=d');
  });

  it('resolves relative and absolute Locations', () => {
    expect(resolveLocation('/v2/a/blobs/uploads/9', 'https://ghcr.io/v2/a/blobs/uploads/')).toBe(
      'https://ghcr.io/v2/a/blobs/uploads/9',
    );
    expect(resolveLocation('http://other:5000/x?y=1', 'https://ghcr.io/v2/')).toBe('http://other:5000/x?y=1');
  });

  it.each([
    ['0-1023', 0, 1024],
    ['bytes=0-4194303', 0, 4194304],
    ['0-0', 0, 0],
    ['0-0', 1, 1],
    [undefined, 0, undefined],
    ['garbage', 0, undefined],
  ])('reads upload Range %s (confirmed %i) as offset %s', (value, confirmed, offset) => {
    expect(offsetFromRange(value, confirmed)).toBe(offset);
  });
});

describe('nextLink', () => {
  it('finds rel="next" among several links and resolves it', () => {
    const link = '</v2/a/tags/list?n=2&last=b>; rel="next", <https://x/prev>; rel="prev"';
    expect(nextLink(link, 'https://ghcr.io/v2/a/tags/list')).toBe(
      'https://ghcr.io/v2/a/tags/list?n=2&last=b',
    );
    expect(nextLink('<https://x/p>; rel=prev', 'https://ghcr.io/')).toBeUndefined();
    expect(nextLink(['<https://x/p>; rel=prev', '<https://x/n>; rel=next'], 'https://ghcr.io/')).toBe(
      'https://x/n',
    );
    expect(nextLink(undefined, 'https://ghcr.io/')).toBeUndefined();
  });
});

describe('ChunkReader', () => {
  it('cuts one stream into bodies of exact lengths across piece boundaries', async () => {
    const reader = new ChunkReader(
      Readable.from([Buffer.from('abc'), Buffer.from('defgh'), Buffer.from('ij')]),
    );
    expect(await collect(reader.take(4, 'test'))).toBe('abcd');
    expect(await collect(reader.take(5, 'test'))).toBe('efghi');
    expect(reader.consumed).toBe(9);
    expect(await reader.atEnd()).toBe(false);
    expect(await collect(reader.take(1, 'test'))).toBe('j');
    expect(await reader.atEnd()).toBe(true);
  });

  it('fails a body when the source ends early', async () => {
    const reader = new ChunkReader(Readable.from([Buffer.from('abc')]));
    const error = await collect(reader.take(5, 'upload of x')).catch((caught: unknown) => caught);
    expect(UploadError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/upload of x: the source ended 2 bytes early/);
  });
});

describe('mapLimit', () => {
  it('keeps at most `limit` tasks in flight and returns results in order', async () => {
    let running = 0;
    let peak = 0;
    const results = await mapLimit([5, 1, 4, 2, 3], 2, async (value) => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise<void>((resolve) => setImmediate(resolve));
      running -= 1;
      return value * 10;
    });
    expect(results).toEqual([50, 10, 40, 20, 30]);
    expect(peak).toBe(2);
  });

  it('rejects with the first failure and starts nothing after it', async () => {
    const started: number[] = [];
    const error = await mapLimit([1, 2, 3, 4], 1, async (value) => {
      started.push(value);
      if (value === 2) throw new Error('two');
      return value;
    }).catch((caught: unknown) => caught);
    expect((error as Error).message).toBe('two');
    expect(started).toEqual([1, 2]);
  });
});

describe('client events', () => {
  it('delivers to listeners in order, supports once and unsubscribe', () => {
    const events = createClientEvents();
    const seen: string[] = [];
    const payload = { registry: 'r', repository: 'a', digest: 'd', size: 1, mediaType: 'm', tags: ['t'] };
    const off = events.on('tagged', (event) => seen.push(`on:${event.tags[0]}`));
    events.once('tagged', () => seen.push('once'));
    events.emit('tagged', payload);
    events.emit('tagged', payload);
    off();
    events.emit('tagged', payload);
    expect(seen).toEqual(['on:t', 'once', 'on:t']);
    expect(events.has('tagged')).toBe(false);
  });

  it('does not let a throwing listener fail the emitter; the error surfaces on a later tick', async () => {
    const events = createClientEvents();
    const seen: string[] = [];
    events.on('progress', () => {
      throw new Error('listener bug');
    });
    events.on('progress', () => seen.push('second'));
    const uncaught = new Promise<unknown>((resolve) => process.once('uncaughtException', resolve));
    events.emit('progress', { operation: 'o', registry: 'r', repository: 'a', digest: 'd', bytesDone: 1 });
    expect(seen).toEqual(['second']);
    expect(((await uncaught) as Error).message).toBe('listener bug');
  });
});
