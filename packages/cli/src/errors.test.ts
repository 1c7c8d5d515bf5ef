import {
  AuthenticationError,
  ConfigError,
  InvalidInputError,
  NotFoundError,
  ProtocolError,
  ServerError,
  TransportError,
} from '@ghcr/oci-types';
import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { causeChainLines, describeError, formatErrorLine, isUsageError } from './errors.js';

const secret = 'ghp_supersecretvalue1234567890';
const none = { secrets: [] as string[] };

describe('describeError', () => {
  it('keeps the code, redacts secrets, and makes the message one line', () => {
    const error = new AuthenticationError(`the token ${secret} was refused\nby the registry`, {
      code: 'DENIED',
      http: { method: 'GET', url: 'https://ghcr.io/v2/octo/app/tags/list', status: 403 },
    });
    const described = describeError(error, { secrets: [secret] });
    expect(described).toEqual({
      code: 'DENIED',
      message: 'the token REDACTED was refused by the registry',
      hint: 'Log in with "ghcr login ghcr.io", or set GHCR_TOKEN to a token with the packages scopes; "--debug" shows which credentials were used.',
      exitCode: 1,
    });
  });

  it('redacts Bearer and Basic values and signed URL queries even when the secret is unknown', () => {
    const error = new ProtocolError(
      'sent Authorization: Bearer abcdefghijklmnop to https://blob.example/x?se=1&sig=abcdef and failed',
    );
    expect(describeError(error, none).message).toBe(
      'sent Authorization: Bearer REDACTED to https://blob.example/x?se=1&sig=REDACTED and failed',
    );
  });

  it('treats bad input that did not come from a server as a usage error (exit 2)', () => {
    expect(describeError(new InvalidInputError('bad tag'), { secrets: [], command: 'tag' })).toEqual({
      code: 'GHCR_BAD_REQUEST',
      message: 'bad tag',
      hint: 'See "ghcr tag --help".',
      exitCode: 2,
    });
    expect(isUsageError(new ConfigError('invalid client option "concurrency"'))).toBe(true);
    const fromServer = new InvalidInputError('400 from the registry', {
      http: { method: 'PUT', url: 'http://127.0.0.1:5000/v2/a/manifests/x', status: 400 },
    });
    expect(describeError(fromServer, none).exitCode).toBe(1);
  });

  it('maps commander errors to GHCR_USAGE with the command’s help', () => {
    const error = new CommanderError(
      1,
      'commander.missingArgument',
      "error: missing required argument 'ref'",
    );
    expect(describeError(error, { secrets: [], command: 'inspect' })).toEqual({
      code: 'GHCR_USAGE',
      message: "missing required argument 'ref'",
      hint: 'Run "ghcr inspect --help" for usage.',
      exitCode: 2,
    });
  });

  it('reports unexpected errors as internal, with where to report them', () => {
    const described = describeError(new TypeError(`cannot read ${secret}`), { secrets: [secret] });
    expect(described.code).toBe('GHCR_INTERNAL');
    expect(described.message).toBe('unexpected failure: cannot read REDACTED');
    expect(described.exitCode).toBe(1);
    expect(described.hint).toContain('https://github.com/ghcr-ts/ghcr/issues');
  });

  it('suggests --plain-http only for a local or private https registry that cannot be reached', () => {
    const https = new TransportError('connection failed', {
      http: { method: 'GET', url: 'https://registry.example:5000/v2/', status: 0 },
    });
    expect(describeError(https, none).hint).toContain('--plain-http');
    const fromMessage = new TransportError('GET "https://registry.lan/v2/": connection failed: ECONNRESET');
    expect(describeError(fromMessage, none).hint).toContain('--plain-http');
    const address = new TransportError('GET "https://10.0.0.5/v2/": connection failed: ECONNREFUSED');
    expect(describeError(address, none).hint).toContain('--plain-http');
    const local = new TransportError('connection failed', {
      http: { method: 'GET', url: 'http://127.0.0.1:1/v2/', status: 0 },
    });
    expect(describeError(local, none).hint).not.toContain('--plain-http');
  });

  it('never suggests turning TLS off for a public host', () => {
    for (const url of [
      'https://ghcr.io/v2/',
      'https://registry-1.docker.io/v2/',
      'https://registry.example/v2/',
    ]) {
      const unreachable = new TransportError(`GET "${url}": connection failed: ECONNREFUSED`);
      expect(describeError(unreachable, none).hint).toBe(
        'Check that the registry is running and the address is right.',
      );
    }
  });

  it('leaves a TLS certificate failure to its message, which says how to trust the CA', () => {
    const cause = Object.assign(new Error('unable to verify the first certificate'), {
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
    const error = new TransportError(
      'HEAD "https://ghcr.io/v2/o/a/manifests/1": the TLS certificate of ghcr.io is not signed by a CA this process trusts; …',
      { cause, isRetryable: false },
    );
    const described = describeError(error, none);
    expect(described.hint).toBeUndefined();
    expect(formatErrorLine(described)).not.toContain('plain');
  });

  it('fits the hint to the fault: broke off, never answered, failing after retries', () => {
    const brokeOff = new TransportError(
      'GET "http://127.0.0.1:5000/v2/": connection failed: other side closed (UND_ERR_SOCKET); the registry was reached but the connection broke off: retry; if it keeps happening, check a proxy or firewall in between',
      { connected: true },
    );
    const line = formatErrorLine(describeError(brokeOff, none));
    expect(line).toMatch(/broke off: retry; .*check a proxy.*\. "--debug" shows every attempt\.$/);
    expect(line).not.toContain('address');
    const never = new TransportError(
      'GET "https://registry.internal/v2/": connection failed: getaddrinfo ENOTFOUND (ENOTFOUND); the host name did not resolve: check the registry address and your DNS',
      { connected: false },
    );
    expect(formatErrorLine(describeError(never, none))).toMatch(
      /check the registry address and your DNS\. For a registry that speaks plain HTTP, add --plain-http\.$/,
    );
    const failing = new ServerError(
      'HEAD "http://127.0.0.1:5000/v2/o/a/blobs/sha256:aa": status 503: service unavailable; the registry is failing (4 attempts): retry later',
      { code: 'GHCR_SERVICE_UNAVAILABLE' },
    );
    expect(formatErrorLine(describeError(failing, none))).toMatch(
      /the registry is failing \(4 attempts\): retry later\. "--debug" shows every attempt\.$/,
    );
  });
});

describe('formatErrorLine', () => {
  it('is error: <code>: <what happened>. <what to do>', () => {
    expect(
      formatErrorLine({ code: 'MANIFEST_UNKNOWN', message: 'no such tag', hint: 'Check it.', exitCode: 1 }),
    ).toBe('error: MANIFEST_UNKNOWN: no such tag. Check it.');
    expect(formatErrorLine({ code: 'X', message: 'done.', hint: 'Next.', exitCode: 1 })).toBe(
      'error: X: done. Next.',
    );
    expect(formatErrorLine({ code: 'X', message: 'plain', exitCode: 1 })).toBe('error: X: plain');
  });
});

describe('causeChainLines', () => {
  it('walks the cause chain with HTTP context and registry errors, redacted', () => {
    const root = new Error(`socket hang up (${secret})`);
    const middle = new TransportError('connection failed', {
      cause: root,
      http: { method: 'GET', url: 'https://ghcr.io/v2/octo/app/manifests/1', status: 502, requestId: 'ABCD' },
    });
    const top = new NotFoundError('manifest unknown', {
      code: 'MANIFEST_UNKNOWN',
      cause: middle,
      http: {
        method: 'GET',
        url: 'https://ghcr.io/v2/octo/app/manifests/1',
        status: 404,
        registryErrors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }],
      },
    });
    expect(causeChainLines(top, [secret])).toEqual([
      'debug: error: NotFoundError MANIFEST_UNKNOWN [GET https://ghcr.io/v2/octo/app/manifests/1 → 404]: manifest unknown',
      'debug:   registry error MANIFEST_UNKNOWN: manifest unknown',
      'debug: caused by: TransportError GHCR_CONNECTION_FAILED [GET https://ghcr.io/v2/octo/app/manifests/1 → 502, request id ABCD]: connection failed',
      'debug: caused by: Error: socket hang up (REDACTED)',
    ]);
  });

  it('adds a short stack for unexpected errors', () => {
    const lines = causeChainLines(new TypeError('boom'), []);
    expect(lines[0]).toBe('debug: error: TypeError: boom');
    expect(lines[1]).toMatch(/^debug: {3}at /);
  });
});
