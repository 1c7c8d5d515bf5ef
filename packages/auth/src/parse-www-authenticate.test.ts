import { ProtocolError } from '@ghcr/oci-types';
import { describe, expect, it } from 'vitest';
import {
  bearerChallengeOf,
  type Challenge,
  challengesOf,
  parseWwwAuthenticate,
} from './parse-www-authenticate.js';

const plain = (challenges: Challenge[]) =>
  challenges.map((challenge) => ({ ...challenge, params: { ...challenge.params } }));

describe('parseWwwAuthenticate', () => {
  it.each<[string, string, Challenge[]]>([
    [
      'GHCR challenge',
      'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:user/image:pull"',
      [
        {
          scheme: 'bearer',
          params: { realm: 'https://ghcr.io/token', service: 'ghcr.io', scope: 'repository:user/image:pull' },
        },
      ],
    ],
    ['basic', 'Basic realm="Registry Realm"', [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]],
    [
      'case-insensitive scheme and names',
      'BEARER Realm="r", SERVICE=svc',
      [{ scheme: 'bearer', params: { realm: 'r', service: 'svc' } }],
    ],
    [
      'two challenges in one header',
      'Basic realm="simple", Bearer realm="https://a/token", service="a"',
      [
        { scheme: 'basic', params: { realm: 'simple' } },
        { scheme: 'bearer', params: { realm: 'https://a/token', service: 'a' } },
      ],
    ],
    [
      'quoted commas and a multi-scope value',
      'Bearer realm="https://a/token",scope="repository:a:pull,push repository:b:pull",error="insufficient_scope"',
      [
        {
          scheme: 'bearer',
          params: {
            realm: 'https://a/token',
            scope: 'repository:a:pull,push repository:b:pull',
            error: 'insufficient_scope',
          },
        },
      ],
    ],
    [
      'backslash escapes',
      'Bearer realm="a \\"quoted\\" realm, with \\\\ slash"',
      [{ scheme: 'bearer', params: { realm: 'a "quoted" realm, with \\ slash' } }],
    ],
    [
      'RFC 9110 example: Newauth + Basic',
      'Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"',
      [
        { scheme: 'newauth', params: { realm: 'apps', type: '1', title: 'Login to "apps"' } },
        { scheme: 'basic', params: { realm: 'simple' } },
      ],
    ],
    [
      'token68 then another challenge',
      'Negotiate a87421000492aa874209af8bc028==, Basic realm="x"',
      [
        { scheme: 'negotiate', params: {}, token68: 'a87421000492aa874209af8bc028==' },
        { scheme: 'basic', params: { realm: 'x' } },
      ],
    ],
    ['token68 with trailing =', 'Custom abc=', [{ scheme: 'custom', params: {}, token68: 'abc=' }]],
    ['scheme alone', 'Negotiate', [{ scheme: 'negotiate', params: {} }]],
    [
      'schemes alone',
      'Negotiate, NTLM',
      [
        { scheme: 'negotiate', params: {} },
        { scheme: 'ntlm', params: {} },
      ],
    ],
    [
      'bad whitespace and empty list elements',
      ' ,  Bearer   realm = "r" ,, service= "s" , ',
      [{ scheme: 'bearer', params: { realm: 'r', service: 's' } }],
    ],
    [
      'unquoted URL (lenient)',
      'Bearer realm=https://auth.example.com/token,service=example',
      [{ scheme: 'bearer', params: { realm: 'https://auth.example.com/token', service: 'example' } }],
    ],
    [
      'missing comma between params (lenient)',
      'Bearer realm="r" service="s"',
      [{ scheme: 'bearer', params: { realm: 'r', service: 's' } }],
    ],
    [
      'empty quoted value',
      'Bearer realm="r",scope=""',
      [{ scheme: 'bearer', params: { realm: 'r', scope: '' } }],
    ],
    ['empty header', '', []],
    [
      'a bare word after a comma is a new scheme',
      'Bearer realm="a", Negotiate',
      [
        { scheme: 'bearer', params: { realm: 'a' } },
        { scheme: 'negotiate', params: {} },
      ],
    ],
  ])('%s', (_name, header, expected) => {
    const parsed = parseWwwAuthenticate(header);
    expect(plain(parsed)).toEqual(plain(expected));
  });

  it('parses several header lines', () => {
    expect(parseWwwAuthenticate(['Basic realm="a"', 'Bearer realm="b"']).map((c) => c.scheme)).toEqual([
      'basic',
      'bearer',
    ]);
  });

  it('keeps __proto__ as an own key without touching the prototype', () => {
    const [challenge] = parseWwwAuthenticate('X __proto__="p"');
    expect(Object.hasOwn(challenge!.params, '__proto__')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(challenge!.params, '__proto__')?.value).toBe('p');
    expect(({} as Record<string, unknown>).p).toBeUndefined();
  });

  it.each([
    ['unterminated quote', 'Bearer realm="abc'],
    ['missing =', 'Bearer realm "a"'],
    ['value missing', 'Bearer realm="a", service='],
    ['duplicate parameter', 'Bearer realm="a", realm="b"'],
    ['no space after scheme', 'Bearer"x"'],
    ['garbage', '=== realm'],
    ['dangling escape', 'Bearer realm="a\\'],
  ])('rejects %s with a ProtocolError', (_name, header) => {
    expect(() => parseWwwAuthenticate(header)).toThrow(ProtocolError);
    expect(() => parseWwwAuthenticate(header)).toThrow(/malformed WWW-Authenticate header at character \d+/);
  });
});

describe('challengesOf / bearerChallengeOf', () => {
  const header =
    'Basic realm="b", Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:a:pull repository:b:push"';

  it('reads a Fetch Headers object', () => {
    const challenge = bearerChallengeOf(new Headers({ 'WWW-Authenticate': header }));
    expect(challenge).toMatchObject({
      realm: 'https://ghcr.io/token',
      service: 'ghcr.io',
      scopes: ['repository:a:pull', 'repository:b:push'],
    });
  });

  it('reads undici IncomingHttpHeaders, including repeated headers', () => {
    const challenges = challengesOf({
      'www-authenticate': ['Basic realm="b"', 'Bearer realm="https://r/token"'],
      other: 'x',
    });
    expect(challenges.map((c) => c.scheme)).toEqual(['basic', 'bearer']);
    expect(bearerChallengeOf(challenges)?.realm).toBe('https://r/token');
  });

  it('returns undefined without a Bearer challenge, and reads the error parameter', () => {
    expect(bearerChallengeOf({ 'www-authenticate': 'Basic realm="x"' })).toBeUndefined();
    expect(bearerChallengeOf({})).toBeUndefined();
    expect(bearerChallengeOf({ 'WWW-Authenticate': 'Bearer realm="r",error="invalid_token"' })?.error).toBe(
      'invalid_token',
    );
  });

  it('refuses a Bearer challenge without realm', () => {
    expect(() => bearerChallengeOf({ 'www-authenticate': 'Bearer service="x"' })).toThrow(
      /without a "realm"/,
    );
  });
});
