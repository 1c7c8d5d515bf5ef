import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { definedProps } from './defined-props.js';
import type { Digest } from './digest.js';
import { GhcrError, InvalidInputError } from './errors.js';
import {
  DEFAULT_REGISTRY,
  formatReference,
  isValidRepositoryName,
  isValidTag,
  MAX_NAME_LENGTH,
  parseReference,
  type Reference,
  referenceTarget,
  splitPackagePath,
} from './reference.js';

const SHA: Digest = `sha256:${'0123456789abcdef'.repeat(4)}`;
const SHA512: Digest = `sha512:${'0123456789abcdef'.repeat(8)}`;

function rejection(input: string): InvalidInputError {
  try {
    parseReference(input);
  } catch (error) {
    if (InvalidInputError.isInstance(error)) return error;
    throw new Error(`expected an InvalidInputError for ${JSON.stringify(input)}, got ${String(error)}`);
  }
  throw new Error(`expected ${JSON.stringify(input)} to be rejected`);
}

describe('parseReference: accepted forms', () => {
  const table: readonly [string, Reference][] = [
    ['ghcr.io/o/n:tag', { registry: 'ghcr.io', repository: 'o/n', tag: 'tag' }],
    ['o/n', { registry: 'ghcr.io', repository: 'o/n' }],
    ['n', { registry: 'ghcr.io', repository: 'n' }],
    ['octo/app:1.0', { registry: 'ghcr.io', repository: 'octo/app', tag: '1.0' }],
    ['localhost:5000/x', { registry: 'localhost:5000', repository: 'x' }],
    ['localhost/x:y', { registry: 'localhost', repository: 'x', tag: 'y' }],
    [`127.0.0.1:5000/a/b:c@${SHA}`, { registry: '127.0.0.1:5000', repository: 'a/b', tag: 'c', digest: SHA }],
    ['[::1]:5000/a', { registry: '[::1]:5000', repository: 'a' }],
    ['[::1]/a:1', { registry: '[::1]', repository: 'a', tag: '1' }],
    ['[2001:db8::1]:443/o/n', { registry: '[2001:db8::1]:443', repository: 'o/n' }],
    [`o/n@${SHA}`, { registry: 'ghcr.io', repository: 'o/n', digest: SHA }],
    [`o/n:tag@${SHA}`, { registry: 'ghcr.io', repository: 'o/n', tag: 'tag', digest: SHA }],
    [`ghcr.io/o/n@${SHA512}`, { registry: 'ghcr.io', repository: 'o/n', digest: SHA512 }],
    [
      'ghcr.io/org/team/sub/app:v1.2.3',
      { registry: 'ghcr.io', repository: 'org/team/sub/app', tag: 'v1.2.3' },
    ],
    ['ghcr.io/o/my__app', { registry: 'ghcr.io', repository: 'o/my__app' }],
    ['o/my_app', { registry: 'ghcr.io', repository: 'o/my_app' }],
    ['o/my-app', { registry: 'ghcr.io', repository: 'o/my-app' }],
    ['o/my---app', { registry: 'ghcr.io', repository: 'o/my---app' }],
    ['o/my.app', { registry: 'ghcr.io', repository: 'o/my.app' }],
    ['o/a.b_c__d-e--f', { registry: 'ghcr.io', repository: 'o/a.b_c__d-e--f' }],
    ['o/n:_tag', { registry: 'ghcr.io', repository: 'o/n', tag: '_tag' }],
    ['o/n:TAG_1.0-rc.1', { registry: 'ghcr.io', repository: 'o/n', tag: 'TAG_1.0-rc.1' }],
    ['example.com/o/n', { registry: 'example.com', repository: 'o/n' }],
    ['GHCR.IO/o/n', { registry: 'GHCR.IO', repository: 'o/n' }],
    ['ghcr.io:443/o/n', { registry: 'ghcr.io:443', repository: 'o/n' }],
    ['my-registry.example:5000/o/n', { registry: 'my-registry.example:5000', repository: 'o/n' }],
    // A first component with "." is a registry …
    ['a.b/c', { registry: 'a.b', repository: 'c' }],
    // … and one without ".", ":" or "localhost" is the first part of the name.
    ['localhostx/c', { registry: 'ghcr.io', repository: 'localhostx/c' }],
    // A lone host-looking name has no "/", so it is a name on the default registry.
    ['localhost:5000', { registry: 'ghcr.io', repository: 'localhost', tag: '5000' }],
    ['a.b', { registry: 'ghcr.io', repository: 'a.b' }],
    [`o/n:${'x'.repeat(128)}`, { registry: 'ghcr.io', repository: 'o/n', tag: 'x'.repeat(128) }],
    // Unregistered but grammar-valid digest algorithms pass (a registry may list them).
    ['o/n@blake3:abcDEF', { registry: 'ghcr.io', repository: 'o/n', digest: 'blake3:abcDEF' }],
  ];

  it.each(table)('%s', (input, expected) => {
    const parsed = parseReference(input);
    expect(parsed).toEqual(expected);
    // Absent parts are absent, not undefined-valued.
    expect(Object.keys(parsed).sort()).toEqual(Object.keys(expected).sort());
  });

  it('defaults to ghcr.io', () => {
    expect(DEFAULT_REGISTRY).toBe('ghcr.io');
    expect(formatReference(parseReference('octo/app:1'))).toBe('ghcr.io/octo/app:1');
  });

  it(`accepts a name of exactly ${MAX_NAME_LENGTH} characters, counting the registry`, () => {
    const repository = `o/${'a'.repeat(MAX_NAME_LENGTH - 'ghcr.io/o/'.length)}`;
    expect(`ghcr.io/${repository}`).toHaveLength(MAX_NAME_LENGTH);
    expect(parseReference(`ghcr.io/${repository}`).repository).toBe(repository);
    expect(parseReference(repository).repository).toBe(repository);
  });
});

describe('parseReference: rejections name the bad part', () => {
  const table: readonly [string, string, RegExp][] = [
    ['an empty string', '', /it is empty/],
    ['an uppercase repository', 'ghcr.io/Octo/app', /repository "Octo\/app" is invalid at "Octo"/],
    ['an uppercase nested component', 'o/team/App:1', /repository "o\/team\/App" is invalid at "App"/],
    [
      'a tag of 129 characters',
      `o/n:${'a'.repeat(129)}`,
      /tag "a+" is invalid: a tag is 1 to 128 characters/,
    ],
    ['a tag starting with "."', 'o/n:.tag', /tag "\.tag" is invalid.*does not start with "\." or "-"/],
    ['a tag starting with "-"', 'o/n:-tag', /tag "-tag" is invalid/],
    ['an empty tag', 'o/n:', /tag "" is invalid/],
    ['a tag with a bad character', 'o/n:a+b', /tag "a\+b" is invalid/],
    ['a short digest', 'o/n@sha256:abc', /the part after "@" is not a valid digest \(sha256:abc\)/],
    ['a digest without algorithm', 'o/n@abc', /the part after "@" is not a valid digest/],
    ['an empty digest', 'o/n@', /the part after "@" is not a valid digest/],
    ['two digests', `o/n@${SHA}@${SHA}`, /the part after "@" is not a valid digest/],
    ['an https:// prefix', 'https://ghcr.io/o/n:1', /remove the URL scheme/],
    ['an http:// prefix', 'http://localhost:5000/x', /remove the URL scheme/],
    ['a leading space', ' ghcr.io/o/n', /white space/],
    ['a trailing newline', 'ghcr.io/o/n\n', /white space/],
    ['an inner tab', 'ghcr.io/o/\tn', /white space/],
    [
      'a name over 255 characters',
      `ghcr.io/o/${'a'.repeat(250)}`,
      /registry and repository together exceed 255 characters/,
    ],
    [
      'a default-registry name over 255 characters',
      `o/${'a'.repeat(250)}`,
      /registry and repository together exceed 255 characters/,
    ],
    ['an empty repository', 'ghcr.io/', /the repository name is empty/],
    ['an empty path component', 'o//n', /repository "o\/\/n" is invalid at ""/],
    ['a trailing separator', 'o/n_', /repository "o\/n_" is invalid at "n_"/],
    ['a leading separator', 'o/-n', /is invalid at "-n"/],
    ['three underscores', 'o/a___b', /is invalid at "a___b"/],
    ['a separator pair "._"', 'o/a._b', /is invalid at "a\._b"/],
    ['a trailing slash', 'ghcr.io/o/n/', /is invalid at ""/],
    ['an underscore in the host', 'bad_host.io/o/n', /registry "bad_host\.io" is not a valid host\[:port\]/],
    ['a host label starting with "-"', '-bad.io/o/n', /registry "-bad\.io" is not a valid host/],
    ['a non-numeric port', 'ghcr.io:https/o/n', /registry "ghcr\.io:https" is not a valid host/],
    ['an empty port', 'localhost:/x', /registry "localhost:" is not a valid host/],
    [
      'an IPv4-mapped IPv6 host',
      '[::ffff:1.2.3.4]:5000/a',
      /registry "\[::ffff:1\.2\.3\.4\]:5000" is not a valid host/,
    ],
    ['an unclosed IPv6 bracket', '[::1:5000/a', /registry "\[::1:5000" is not a valid host/],
  ];

  it.each(table)('rejects %s', (_what, input, message) => {
    const error = rejection(input);
    expect(GhcrError.isInstance(error)).toBe(true);
    expect(error.code).toBe('GHCR_INVALID_REFERENCE');
    expect(error.input).toBe(input);
    expect(error.message).toMatch(/^invalid reference "/);
    expect(error.message).toMatch(message);
  });

  it('keeps the digest parser’s error as the cause', () => {
    const error = rejection('o/n@sha256:ABC');
    expect(GhcrError.isInstance(error.cause)).toBe(true);
    expect((error.cause as GhcrError).code).toBe('GHCR_INVALID_DIGEST');
  });
});

describe('formatReference, referenceTarget, splitPackagePath', () => {
  it('formats every part', () => {
    expect(formatReference({ registry: 'ghcr.io', repository: 'o/n' })).toBe('ghcr.io/o/n');
    expect(formatReference({ registry: 'ghcr.io', repository: 'o/n', tag: 't' })).toBe('ghcr.io/o/n:t');
    expect(formatReference({ registry: 'ghcr.io', repository: 'o/n', digest: SHA })).toBe(
      `ghcr.io/o/n@${SHA}`,
    );
    expect(formatReference({ registry: '[::1]:5000', repository: 'o/n', tag: 't', digest: SHA })).toBe(
      `[::1]:5000/o/n:t@${SHA}`,
    );
  });

  it('targets the digest, else the tag, else latest', () => {
    expect(referenceTarget(parseReference(`o/n:t@${SHA}`))).toBe(SHA);
    expect(referenceTarget(parseReference('o/n:t'))).toBe('t');
    expect(referenceTarget(parseReference('o/n'))).toBe('latest');
  });

  it('splits a package path into owner and package name', () => {
    expect(splitPackagePath('octo/app')).toEqual({ owner: 'octo', packageName: 'app' });
    expect(splitPackagePath('octo/team/app')).toEqual({ owner: 'octo', packageName: 'team/app' });
  });

  it.each(['app', '/app', 'octo/', ''])('refuses %j, which has no owner', (path) => {
    let caught: unknown;
    try {
      splitPackagePath(path);
    } catch (error) {
      caught = error;
    }
    expect(InvalidInputError.isInstance(caught)).toBe(true);
    expect((caught as InvalidInputError).code).toBe('GHCR_INVALID_REFERENCE');
    expect((caught as InvalidInputError).message).toContain('GitHub packages are named <owner>/<package>');
  });

  it('checks names and tags on their own', () => {
    expect(isValidRepositoryName('o/n.x__y-z')).toBe(true);
    expect(isValidRepositoryName('O/n')).toBe(false);
    expect(isValidRepositoryName('')).toBe(false);
    expect(isValidTag('v1.0')).toBe(true);
    expect(isValidTag('x'.repeat(128))).toBe(true);
    expect(isValidTag('x'.repeat(129))).toBe(false);
    expect(isValidTag('.x')).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// The oracle: the reference grammar, written here from the specifications and not from the
// implementation.
//   distribution-spec v1.1, "Pulling manifests":
//     <name>      [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*
//     <reference> as a tag: [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}
//   distribution/reference (grammar in reference.go / regexp.go), for the registry part:
//     domain           := host [':' port-number]
//     host             := domain-name | '[' IPv6address ']'    (hex digits and ':' only)
//     domain-name      := domain-component ['.' domain-component]*
//     domain-component := /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
//     port-number      := /[0-9]+/
//   image-spec v1.1, "Digests": algorithm ":" encoded, with
//     algorithm [a-z0-9]+([+._-][a-z0-9]+)*, encoded [a-zA-Z0-9=_-]+,
//     sha256 → 64 lowercase hex, sha512 → 128 lowercase hex.
// ---------------------------------------------------------------------------------------------
const O_COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const O_NAME = `${O_COMPONENT}(?:/${O_COMPONENT})*`;
const O_TAG = '[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}';
const O_LABEL = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const O_DOMAIN = `(?:${O_LABEL}(?:\\.${O_LABEL})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const O_DIGEST = '[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+';
const O_TAIL = `(?::(${O_TAG}))?(?:@(${O_DIGEST}))?`;
/** The whole grammar, registry optional. */
const GRAMMAR = new RegExp(`^(?:${O_DOMAIN}/)?${O_NAME}${O_TAIL}$`);
const WITH_REGISTRY = new RegExp(`^(${O_DOMAIN})/(${O_NAME})${O_TAIL}$`);
const WITHOUT_REGISTRY = new RegExp(`^(${O_NAME})${O_TAIL}$`);

/**
 * What parseReference must return for `input`, per the grammar plus this package's documented
 * rules: the first "/"-separated component is a registry when it has "." or ":", is `localhost`,
 * or is a bracketed IPv6 address; otherwise the registry is ghcr.io; registered digest algorithms
 * have exact lengths; registry + "/" + name is at most 255 characters.
 */
function oracle(input: string): Reference | undefined {
  const slash = input.indexOf('/');
  const first = slash < 0 ? undefined : input.slice(0, slash);
  const registryLike =
    first !== undefined &&
    (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('['));
  let registry = 'ghcr.io';
  let match: RegExpExecArray | null;
  let repository: string;
  let tag: string | undefined;
  let digest: string | undefined;
  if (registryLike) {
    match = WITH_REGISTRY.exec(input);
    if (match === null) return undefined;
    [, registry = '', repository = '', tag, digest] = match;
  } else {
    match = WITHOUT_REGISTRY.exec(input);
    if (match === null) return undefined;
    [, repository = '', tag, digest] = match;
  }
  if (digest !== undefined) {
    const [algorithm, encoded = ''] = digest.split(':');
    if (algorithm === 'sha256' && !/^[0-9a-f]{64}$/.test(encoded)) return undefined;
    if (algorithm === 'sha512' && !/^[0-9a-f]{128}$/.test(encoded)) return undefined;
  }
  if (registry.length + 1 + repository.length > 255) return undefined;
  return {
    registry,
    repository,
    ...definedProps({ tag }),
    ...(digest === undefined ? {} : { digest: digest as Digest }),
  };
}

function tryParse(input: string): Reference | undefined {
  try {
    return parseReference(input);
  } catch (error) {
    if (!InvalidInputError.isInstance(error)) throw error; // anything else is a bug
    return undefined;
  }
}

// Generators that follow the grammar.
const chars = (alphabet: string, minLength: number, maxLength: number): fc.Arbitrary<string> =>
  fc.string({ unit: fc.constantFrom(...alphabet), minLength, maxLength });
const LOWER_ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';
const ALNUM = `${LOWER_ALNUM}ABCDEFGHIJKLMNOPQRSTUVWXYZ`;
const HEX = '0123456789abcdef';

const pathComponentArb = fc
  .tuple(
    chars(LOWER_ALNUM, 1, 5),
    fc.array(fc.tuple(fc.constantFrom('.', '_', '__', '-', '--', '---'), chars(LOWER_ALNUM, 1, 4)), {
      maxLength: 3,
    }),
  )
  .map(([head, rest]) => head + rest.map(([separator, part]) => separator + part).join(''));
const pathArb = fc.array(pathComponentArb, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('/'));
const labelArb = fc.oneof(
  chars(ALNUM, 1, 1),
  fc.tuple(chars(ALNUM, 1, 1), chars(`${ALNUM}-`, 0, 6), chars(ALNUM, 1, 1)).map(([a, b, c]) => a + b + c),
);
const domainNameArb = fc.array(labelArb, { minLength: 1, maxLength: 4 }).map((labels) => labels.join('.'));
const portArb = chars('0123456789', 1, 5);
const ipv6Arb = chars(`${HEX}ABCDEF:`, 1, 16).map((address) => `[${address}]`);
/** A registry that parseReference will recognise as one (it has ".", ":", is localhost or IPv6). */
const registryArb = fc.oneof(
  fc.tuple(domainNameArb, labelArb).map(([a, b]) => `${a}.${b}`),
  fc.tuple(domainNameArb, portArb).map(([host, port]) => `${host}:${port}`),
  fc.constantFrom('localhost', 'ghcr.io', '127.0.0.1'),
  fc.tuple(fc.constantFrom('localhost', '127.0.0.1'), portArb).map(([host, port]) => `${host}:${port}`),
  ipv6Arb,
  fc.tuple(ipv6Arb, portArb).map(([host, port]) => `${host}:${port}`),
);
const tagArb = fc
  .tuple(chars(`${ALNUM}_`, 1, 1), chars(`${ALNUM}_.-`, 0, 127))
  .map(([head, rest]) => head + rest);
const digestArb = fc.oneof(
  chars(HEX, 64, 64).map((hex) => `sha256:${hex}`),
  chars(HEX, 128, 128).map((hex) => `sha512:${hex}`),
  fc
    .tuple(chars(LOWER_ALNUM, 1, 6), chars(`${ALNUM}=_-`, 1, 20))
    .filter(([algorithm]) => algorithm !== 'sha256' && algorithm !== 'sha512')
    .map(([algorithm, encoded]) => `${algorithm}:${encoded}`),
);
const tailArb = fc
  .tuple(fc.option(tagArb, { nil: undefined }), fc.option(digestArb, { nil: undefined }))
  .map(([tag, digest]) => `${tag === undefined ? '' : `:${tag}`}${digest === undefined ? '' : `@${digest}`}`);
const withRegistryArb = fc
  .tuple(registryArb, pathArb, tailArb)
  .map(([registry, path, tail]) => `${registry}/${path}${tail}`);

const FUZZ_ALPHABET = [
  ...'az09AZ._-/:@[]',
  ...'_-.:/@', // separators twice as likely
  ' ',
  '\t',
  '+',
  '=',
  '%',
  '#',
  '?',
  'é',
  '\u0000',
];

type Mutation = { op: 'insert' | 'delete' | 'replace'; at: number; char: string };
const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constantFrom('insert', 'delete', 'replace'),
  at: fc.nat(),
  char: fc.constantFrom(...FUZZ_ALPHABET),
});
function mutate(input: string, mutations: readonly Mutation[]): string {
  let out = input;
  for (const { op, at, char } of mutations) {
    const i = out.length === 0 ? 0 : at % (out.length + (op === 'insert' ? 1 : 0));
    if (op === 'insert') out = out.slice(0, i) + char + out.slice(i);
    else if (op === 'delete') out = out.slice(0, i) + out.slice(i + 1);
    else out = out.slice(0, i) + char + out.slice(i + 1);
  }
  return out;
}
/** Near-valid strings: a valid reference with a few characters inserted, deleted or replaced. */
const nearValidArb = fc
  .tuple(
    fc.oneof(
      withRegistryArb,
      fc.tuple(pathArb, tailArb).map(([p, t]) => p + t),
    ),
    fc.array(mutationArb, { maxLength: 3 }),
  )
  .map(([input, mutations]) => mutate(input, mutations));
/** Arbitrary strings over the characters that matter to the grammar (and some that do not). */
const broadArb = fc.string({ unit: fc.constantFrom(...FUZZ_ALPHABET), maxLength: 40 });

describe('parseReference: properties', () => {
  it('the oracle agrees with the hand-written table', () => {
    expect(oracle('ghcr.io/o/n:tag')).toEqual({ registry: 'ghcr.io', repository: 'o/n', tag: 'tag' });
    expect(oracle('[::1]:5000/a')).toEqual({ registry: '[::1]:5000', repository: 'a' });
    expect(oracle('ghcr.io/Octo/app')).toBeUndefined();
    expect(GRAMMAR.test('o/n:.tag')).toBe(false);
    expect(GRAMMAR.test(`o/n:${'a'.repeat(129)}`)).toBe(false);
  });

  it('round-trips: formatReference(parseReference(x)) === x for references that name their registry', () => {
    fc.assert(
      fc.property(withRegistryArb, (input) => {
        const firstSlash = input.indexOf('/');
        const repository = input.slice(firstSlash + 1).replace(/[:@].*$/, '');
        fc.pre(firstSlash + 1 + repository.length <= MAX_NAME_LENGTH);
        expect(formatReference(parseReference(input))).toBe(input);
      }),
      { numRuns: 500 },
    );
  });

  it('round-trips references without a registry, adding ghcr.io', () => {
    fc.assert(
      fc.property(pathArb, tailArb, (path, tail) => {
        const first = path.split('/')[0] ?? '';
        fc.pre(!path.includes('/') || (!first.includes('.') && first !== 'localhost'));
        const input = path + tail;
        expect(formatReference(parseReference(input))).toBe(`ghcr.io/${input}`);
      }),
      { numRuns: 300 },
    );
  });

  it('rejects every string the grammar rejects (near-valid strings)', () => {
    fc.assert(
      fc.property(nearValidArb, (input) => {
        if (!GRAMMAR.test(input)) expect(tryParse(input), JSON.stringify(input)).toBeUndefined();
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects every string the grammar rejects (broad alphabet)', () => {
    fc.assert(
      fc.property(broadArb, (input) => {
        if (!GRAMMAR.test(input)) expect(tryParse(input), JSON.stringify(input)).toBeUndefined();
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts exactly what the grammar and the documented rules accept, with the same parts', () => {
    fc.assert(
      fc.property(fc.oneof(nearValidArb, broadArb, withRegistryArb), (input) => {
        expect(tryParse(input), JSON.stringify(input)).toEqual(oracle(input));
      }),
      { numRuns: 3000 },
    );
  });

  it('validates names and tags like the grammar', () => {
    const nameOracle = new RegExp(`^${O_NAME}$`);
    const tagOracle = new RegExp(`^${O_TAG}$`);
    fc.assert(
      fc.property(fc.oneof(pathArb, tagArb, broadArb, nearValidArb), (value) => {
        expect(isValidRepositoryName(value)).toBe(nameOracle.test(value));
        expect(isValidTag(value)).toBe(tagOracle.test(value));
      }),
      { numRuns: 2000 },
    );
  });
});
