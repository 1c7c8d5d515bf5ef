import { createRequire } from 'node:module';
import { type LoopbackServer, startLoopbackServer } from '@ghcr/test-support';
import {
  Agent as UndiciAgent,
  Dispatcher as UndiciDispatcher,
  errors as undiciErrors,
  request as undiciRequest,
  util as undiciUtil,
} from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The `ghcr` bundle maps `undici` to build/undici-slim.cjs (tsup.config.ts): these tests hold that
// file to what the bundled code needs from undici, against the undici installed here.
interface Slim {
  readonly Agent: typeof UndiciAgent;
  readonly Dispatcher: typeof UndiciDispatcher;
  readonly errors: typeof undiciErrors;
  readonly request: typeof undiciRequest;
  readonly util: typeof undiciUtil;
}
const slim = createRequire(import.meta.url)('../build/undici-slim.cjs') as Slim;

describe('the bundle’s slim undici', () => {
  const seen: { method: string | undefined; url: string | undefined; body: string }[] = [];
  let server: LoopbackServer;
  beforeAll(async () => {
    server = await startLoopbackServer((incoming, response) => {
      let body = '';
      incoming.setEncoding('utf8').on('data', (chunk: string) => {
        body += chunk;
      });
      incoming.on('end', () => {
        seen.push({ method: incoming.method, url: incoming.url, body });
        response.writeHead(incoming.url === '/missing' ? 404 : 200, { 'x-echo': incoming.method ?? '' });
        response.end(`${incoming.method} ${incoming.url} ${body}`);
      });
    });
  });
  afterAll(() => server.close());

  it('exports undici’s own Agent class', () => {
    expect(slim.Agent).toBe(UndiciAgent);
  });

  it('exports undici’s Dispatcher, errors and header parsing (the bundled simulation uses them)', () => {
    expect(slim.Dispatcher).toBe(UndiciDispatcher);
    expect(slim.errors).toBe(undiciErrors);
    expect(slim.util.parseHeaders).toBe(undiciUtil.parseHeaders);
    expect(slim.util.headerNameToString).toBe(undiciUtil.headerNameToString);
  });

  it('sends what undici.request sends and reads the same response', async () => {
    const dispatcher = new slim.Agent();
    try {
      const cases = [
        { path: '/v2/octo/app/tags/list?n=2&last=a', options: { method: 'GET' as const } },
        { path: '/v2/', options: {} },
        { path: '/upload?digest=sha256%3Aab', options: { method: 'PUT' as const, body: 'bytes' } },
        { path: '/missing', options: { method: 'HEAD' as const } },
      ];
      for (const { path, options } of cases) {
        seen.length = 0;
        const ours = await slim.request(`${server.origin}${path}`, { dispatcher, ...options });
        const oursText = await ours.body.text();
        const theirs = await undiciRequest(`${server.origin}${path}`, { dispatcher, ...options });
        const theirsText = await theirs.body.text();
        expect(ours.statusCode, path).toBe(theirs.statusCode);
        expect(ours.headers['x-echo'], path).toBe(theirs.headers['x-echo']);
        expect(oursText, path).toBe(theirsText);
        expect(seen[0], path).toEqual(seen[1]);
        expect(seen[0]?.url, path).toBe(path);
      }
    } finally {
      await dispatcher.close();
    }
  });

  it('refuses a call without a dispatcher (ghcr never uses the global one)', () => {
    expect(() => slim.request(`${server.origin}/`, {})).toThrow(/needs a dispatcher/);
  });
});
