import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REDACTED, redactText, redactUrl } from './redact.js';

describe('redactUrl', () => {
  it('redacts the signature of a GHCR blob redirect and keeps the rest', () => {
    const signed =
      'https://pkg-containers.githubusercontent.com/ghcr1/blobs/sha256:abc?se=2026-01-01T00%3A10%3A00Z&sig=Zm9vYmFy%2Fc2ln%3D&sp=r&spr=https&sr=b&sv=2019-12-12';
    expect(redactUrl(signed)).toBe(
      'https://pkg-containers.githubusercontent.com/ghcr1/blobs/sha256:abc?se=2026-01-01T00%3A10%3A00Z&sig=REDACTED&sp=r&spr=https&sr=b&sv=2019-12-12',
    );
  });

  it('removes user info', () => {
    expect(redactUrl('https://user:p%40ss@ghcr.io/v2/')).toBe('https://ghcr.io/v2/');
    expect(redactUrl('https://token@ghcr.io/v2/')).toBe('https://ghcr.io/v2/');
  });

  it.each([
    'token',
    'access_token',
    'refresh_token',
    'id_token',
    'password',
    'passwd',
    'secret',
    'client_secret',
    'code',
    'key',
    'api_key',
    'apikey',
    'signature',
    'X-Amz-Signature',
    'X-Amz-Credential',
    'X-Amz-Security-Token',
    'X-Goog-Signature',
    'X-Goog-Credential',
    'skoid',
    'sktid',
    'verify',
    'SIG',
  ])('redacts the %s query parameter', (name) => {
    expect(redactUrl(`https://x.example/p?a=1&${name}=s3cr3t&b=2`)).toBe(
      `https://x.example/p?a=1&${name}=REDACTED&b=2`,
    );
  });

  it('recognises a percent-encoded parameter name', () => {
    expect(redactUrl('https://x.example/p?%73ig=s3cr3t')).toBe('https://x.example/p?%73ig=REDACTED');
  });

  it('keeps harmless parameters, valueless parameters and the fragment', () => {
    expect(redactUrl('https://ghcr.io/v2/o/n/tags/list?n=100&last=v1#frag')).toBe(
      'https://ghcr.io/v2/o/n/tags/list?n=100&last=v1#frag',
    );
    expect(redactUrl('https://x.example/p?token&sig=a#f')).toBe('https://x.example/p?token&sig=REDACTED#f');
    expect(redactUrl('https://ghcr.io/token?scope=repository:o/n:pull&service=ghcr.io')).toBe(
      'https://ghcr.io/token?scope=repository:o/n:pull&service=ghcr.io',
    );
  });

  it('handles strings that are not absolute URLs', () => {
    expect(redactUrl('/v2/o/n/blobs/uploads/abc?_state=xyz&token=t0k3n')).toBe(
      '/v2/o/n/blobs/uploads/abc?_state=xyz&token=REDACTED',
    );
    expect(redactUrl('/v2/')).toBe('/v2/');
    expect(redactUrl('')).toBe('');
  });

  it('never lets a sig value through, whatever it is (property)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 4, maxLength: 30 }), fc.webPath(), (secret, path) => {
        const url = new URL(`https://pkg-containers.githubusercontent.com${path}`);
        url.searchParams.set('se', '2026');
        url.searchParams.set('sig', `SECRET${secret}`);
        const out = redactUrl(url.toString());
        expect(out).toContain('sig=REDACTED');
        expect(out).not.toContain('SECRET');
      }),
    );
  });
});

describe('redactText', () => {
  it('replaces each given secret, everywhere it occurs', () => {
    expect(redactText('a ghp_abc123 b ghp_abc123 c', ['ghp_abc123'])).toBe(`a ${REDACTED} b ${REDACTED} c`);
    expect(redactText('first second', new Set(['first', 'second']))).toBe(`${REDACTED} ${REDACTED}`);
  });

  it('ignores secrets shorter than 4 characters', () => {
    expect(redactText('a b abc', ['a', 'abc', ''])).toBe('a b abc');
  });

  it('redacts Bearer and Basic credentials without being told', () => {
    expect(redactText('Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.x.y')).toBe(
      `Authorization: Bearer ${REDACTED}`,
    );
    expect(redactText('Basic dXNlcjpwYXNzd29yZA== sent')).toBe(`Basic ${REDACTED} sent`);
    // Ordinary prose is not touched.
    expect(redactText('Bearer auth required')).toBe('Bearer auth required');
  });

  it('redacts credential query values of URLs quoted in text', () => {
    expect(
      redactText(
        'redirected to https://pkg-containers.githubusercontent.com/b?se=1&sig=AbC%2Fd%3D&sv=2 and failed',
      ),
    ).toBe('redirected to https://pkg-containers.githubusercontent.com/b?se=1&sig=REDACTED&sv=2 and failed');
    expect(redactText('"url":"https://x/p?token=abc123"')).toBe('"url":"https://x/p?token=REDACTED"');
    expect(redactText('<a href="https://x/p?a=1&X-Amz-Signature=deadbeef">')).toBe(
      '<a href="https://x/p?a=1&X-Amz-Signature=REDACTED">',
    );
    // Only query parameters: the word "token=" in prose without "?" or "&" stays.
    expect(redactText('token=abc in prose')).toBe('token=abc in prose');
  });

  it('never lets a given secret through (property)', () => {
    // Token-like secrets (lowercase, so they cannot overlap the word REDACTED itself).
    const secretArb = fc.string({
      unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789_-'),
      minLength: 4,
      maxLength: 20,
    });
    fc.assert(
      fc.property(secretArb, fc.string(), fc.string(), (secret, before, after) => {
        const out = redactText(`${before}${secret}${after}${secret}`, [secret]);
        expect(out.includes(secret)).toBe(false);
      }),
    );
  });
});
