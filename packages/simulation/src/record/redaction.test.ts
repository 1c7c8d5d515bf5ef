import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@ghcr/oci-types';
import { type Dispatcher, request } from 'undici';
import { describe, expect, it } from 'vitest';
import { readCassette } from './cassette.js';
import { createRecordingDispatcher } from './recording-dispatcher.js';
import { redactBody, redactHeaders, redactMessage } from './redaction.js';
import { createReplayDispatcher } from './replay-dispatcher.js';

describe('redactHeaders', () => {
  it('keeps the scheme of credentials, cookie names and unsigned URL parts', () => {
    expect(
      redactHeaders({
        authorization: 'Bearer abc.def.ghi',
        'proxy-authorization': 'Basic dXNlcjpwYXNz',
        cookie: 'a=1; b=2',
        'set-cookie': ['session=xyz; Path=/; HttpOnly', 'other=q'],
        'x-registry-auth': 'eyJzZWNyZXQiOnRydWV9',
        location:
          'https://pkg-containers.githubusercontent.com/ghcr1/blobs/sha256:ab?se=2026&sig=SECRET&sv=1',
        link: '<https://api.github.com/x?page=2&access_token=SECRET>; rel="next"',
        'content-type': 'application/json',
      }),
    ).toEqual({
      authorization: 'Bearer REDACTED',
      'proxy-authorization': 'Basic REDACTED',
      cookie: 'a=REDACTED; b=REDACTED',
      'set-cookie': ['session=REDACTED; Path=/; HttpOnly', 'other=REDACTED'],
      'x-registry-auth': 'REDACTED',
      location:
        'https://pkg-containers.githubusercontent.com/ghcr1/blobs/sha256:ab?se=2026&sig=REDACTED&sv=1',
      link: '<https://api.github.com/x?page=2&access_token=REDACTED>; rel="next"',
      'content-type': 'application/json',
    });
  });
});

describe('redactBody', () => {
  it('blanks token and password fields at any depth, leaving other JSON bytes untouched', () => {
    const body = Buffer.from(
      JSON.stringify({
        token: 't1',
        list: [{ access_token: 't2', keep: 'k' }],
        Password: 'p',
        n: { refresh_token: 'r' },
      }),
    );
    const { bytes, changed } = redactBody(body, 'application/json', undefined);
    expect(changed).toBe(true);
    expect(JSON.parse(Buffer.from(bytes).toString())).toEqual({
      token: 'REDACTED',
      list: [{ access_token: 'REDACTED', keep: 'k' }],
      Password: 'REDACTED',
      n: { refresh_token: 'REDACTED' },
    });
    const manifest = Buffer.from(
      '{\n  "schemaVersion": 2,\n  "annotations": {"a": "Basic authentication helper"}\n}',
    );
    expect(redactBody(manifest, 'application/vnd.oci.image.manifest.v1+json', undefined)).toEqual({
      bytes: manifest,
      changed: false,
    });
  });

  it('blanks form fields and leaves binary or compressed bodies alone', () => {
    const form = Buffer.from('grant_type=password&username=u&password=secret&refresh%5Ftoken=r');
    expect(
      Buffer.from(redactBody(form, 'application/x-www-form-urlencoded', undefined).bytes).toString(),
    ).toBe('grant_type=password&username=u&password=REDACTED&refresh%5Ftoken=REDACTED');
    const binary = Buffer.from([0x7b, 0, 0xff]);
    expect(redactBody(binary, 'application/json', undefined).changed).toBe(false);
    const gzipped = Buffer.from('{"token":"x"}');
    expect(redactBody(gzipped, 'application/json', 'gzip').changed).toBe(false);
  });

  it('redacts URLs and credentials inside error messages', () => {
    expect(redactMessage('connect failed for https://x.test/b?sig=abc&se=1 with Bearer abcdefghijk')).toBe(
      'connect failed for https://x.test/b?sig=REDACTED&se=1 with Bearer REDACTED',
    );
  });
});

/** A dispatcher answering every request with a fixed JSON body. */
function fixed(body: string): Dispatcher {
  return {
    dispatch(_options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler) {
      setImmediate(() => {
        const controller = {
          aborted: false,
          paused: false,
          reason: null,
          abort() {},
          pause() {},
          resume() {},
        };
        handler.onRequestStart?.(controller, {});
        handler.onResponseStart?.(controller, 200, { 'content-type': 'application/json' }, 'OK');
        handler.onResponseData?.(controller, Buffer.from(body));
        handler.onResponseEnd?.(controller, {});
      });
      return true;
    },
    close: () => Promise.resolve(),
  } as unknown as Dispatcher;
}

describe('the user redact hook', () => {
  it('runs after the built-in rules, on the recorder and on live requests in the replayer', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'ghcr-cassette-'));
    try {
      const cassette = join(directory, 'hook.json');
      const hook = (entry: import('./cassette.js').CassetteEntry) => ({
        ...entry,
        request: {
          ...entry.request,
          url: entry.request.url.replace(/tenant-[a-z0-9]+/, 'tenant-X'),
          headers: { ...entry.request.headers, 'x-api-key': 'HIDDEN' },
        },
      });
      const recorder = createRecordingDispatcher({
        dispatcher: fixed('{"name":"internal-codename"}'),
        cassette,
        redact: hook,
      });
      await (
        await request('https://api.example.test/tenant-abc123/items', {
          dispatcher: recorder,
          headers: { 'x-api-key': 'key-777' },
        })
      ).body.text();
      await recorder.close();
      const text = await readFile(cassette, 'utf8');
      expect(text).not.toContain('tenant-abc123');
      expect(text).not.toContain('key-777');
      expect(readCassette(cassette).entries[0]?.request.url).toBe('https://api.example.test/tenant-X/items');

      const replayer = createReplayDispatcher({ cassette, redact: hook });
      const response = await request('https://api.example.test/tenant-zzz999/items', {
        dispatcher: replayer,
      });
      expect(await response.body.json()).toEqual({ name: 'internal-codename' });
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});

describe('options', () => {
  it('refuses invalid options with a ConfigError naming the field', () => {
    expect(() =>
      createRecordingDispatcher({ dispatcher: {} as Dispatcher, cassette: 'x.json' }),
    ).toThrowError(/option "dispatcher"/);
    const error = (() => {
      try {
        createReplayDispatcher({ cassette: '/nonexistent/cassette.json' });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(ConfigError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('cannot read cassette');
  });
});
