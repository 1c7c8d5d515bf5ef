import { readFileSync } from 'node:fs';
import {
  type Descriptor,
  definedProps,
  GhcrErrorCode,
  InvalidInputError,
  MediaType,
  type Platform,
} from '@ghcr/oci-types';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildIndex } from './build.js';
import { isIndex, type ParsedIndex } from './kinds.js';
import { parseManifest } from './parse.js';
import {
  formatPlatform,
  listPlatforms,
  normalizePlatform,
  parsePlatform,
  platformMatches,
  selectPlatformManifest,
} from './platform.js';

const p = (text: string, extra: Partial<Platform> = {}): Platform => ({ ...parsePlatform(text), ...extra });

describe('normalizePlatform', () => {
  const table: [string, string][] = [
    ['linux/amd64', 'linux/amd64'],
    ['linux/x86_64', 'linux/amd64'],
    ['linux/x86-64', 'linux/amd64'],
    ['linux/amd64/v1', 'linux/amd64'],
    ['linux/amd64/v3', 'linux/amd64/v3'],
    ['linux/aarch64', 'linux/arm64/v8'],
    ['linux/arm64', 'linux/arm64/v8'],
    ['linux/arm64/v8', 'linux/arm64/v8'],
    ['linux/arm64/8', 'linux/arm64/v8'],
    ['linux/arm64/v8.0', 'linux/arm64/v8'],
    ['linux/arm64/v9', 'linux/arm64/v9'],
    ['linux/arm64/v8.2', 'linux/arm64/v8.2'],
    ['linux/arm', 'linux/arm/v7'],
    ['linux/arm/7', 'linux/arm/v7'],
    ['linux/arm/v6', 'linux/arm/v6'],
    ['linux/armhf', 'linux/arm/v7'],
    ['linux/armel', 'linux/arm/v6'],
    ['linux/armv7l', 'linux/arm/v7'],
    ['linux/armv6l', 'linux/arm/v6'],
    ['linux/armv5tel', 'linux/arm/v5'],
    ['linux/i386', 'linux/386'],
    ['linux/i686', 'linux/386'],
    ['linux/x86', 'linux/386'],
    ['Linux/AMD64', 'linux/amd64'],
    ['linux/riscv64', 'linux/riscv64'],
    ['linux/s390x', 'linux/s390x'],
    ['windows/amd64', 'windows/amd64'],
    ['darwin/arm64', 'darwin/arm64/v8'],
  ];
  for (const [input, expected] of table) {
    it(`${input} → ${expected}`, () => {
      expect(formatPlatform(normalizePlatform(parsePlatform(input)))).toBe(expected);
    });
  }

  it('keeps os.version, os.features, features and unknown fields; changes nothing in place', () => {
    const input: Platform = {
      os: 'windows',
      architecture: 'x86_64',
      'os.version': '10.0.17763.1234',
      'os.features': ['win32k'],
      features: ['sse4'],
      extra: 1,
    };
    const copy = structuredClone(input);
    expect(normalizePlatform(input)).toEqual({ ...input, architecture: 'amd64' });
    expect(input).toEqual(copy);
  });

  it('drops an empty variant', () => {
    expect(normalizePlatform({ os: 'linux', architecture: 'amd64', variant: '' })).toEqual({
      os: 'linux',
      architecture: 'amd64',
    });
  });

  it('is idempotent (property)', () => {
    const arch = fc.constantFrom(
      'amd64',
      'x86_64',
      'aarch64',
      'arm64',
      'arm',
      'armhf',
      'armel',
      'i386',
      'riscv64',
      'ppc64le',
    );
    const variant = fc.option(fc.constantFrom('v5', 'v6', 'v7', 'v8', '7', 'v1', 'v2', 'v8.0', 'v9'), {
      nil: undefined,
    });
    fc.assert(
      fc.property(fc.constantFrom('linux', 'windows', 'Linux'), arch, variant, (os, architecture, v) => {
        const platform: Platform = { os, architecture, ...definedProps({ variant: v }) };
        const once = normalizePlatform(platform);
        expect(normalizePlatform(once)).toEqual(once);
        expect(platformMatches(platform, once)).toBe(true);
        expect(platformMatches(once, platform)).toBe(true);
      }),
    );
  });
});

describe('parsePlatform and formatPlatform', () => {
  it('parses os/arch and os/arch/variant as written', () => {
    expect(parsePlatform('linux/amd64')).toEqual({ os: 'linux', architecture: 'amd64' });
    expect(parsePlatform(' linux/arm/v7 ')).toEqual({ os: 'linux', architecture: 'arm', variant: 'v7' });
    expect(parsePlatform('linux/aarch64')).toEqual({ os: 'linux', architecture: 'aarch64' });
  });

  it('reads an os version in parentheses, and formats it back', () => {
    const windows = parsePlatform('windows(10.0.17763.1234)/amd64');
    expect(windows).toEqual({ os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763.1234' });
    expect(formatPlatform(windows)).toBe('windows(10.0.17763.1234)/amd64');
  });

  it('formats as os/arch[/variant]', () => {
    expect(formatPlatform({ os: 'linux', architecture: 'arm64', variant: 'v8' })).toBe('linux/arm64/v8');
    expect(formatPlatform({ os: 'linux', architecture: 'amd64' })).toBe('linux/amd64');
  });

  const bad: [string, RegExp][] = [
    ['', /it is empty/],
    ['   ', /it is empty/],
    ['linux', /names no architecture.*linux\/amd64/],
    ['linux/arm/v7/extra', /4 parts, at most 3/],
    ['/amd64', /the os is empty/],
    ['linux/', /the architecture is empty/],
    ['linux/arm/', /the variant is empty/],
    ['linux/amd 64', /the architecture "amd 64" may contain only/],
    ['lin:ux/amd64', /the os "lin:ux" may contain only/],
    ['windows(10.0/amd64', /unbalanced parentheses/],
    ['windows(10 0)/amd64', /os version "10 0" may contain only/],
  ];
  for (const [text, problem] of bad) {
    it(`refuses ${JSON.stringify(text)} naming the problem`, () => {
      let error: unknown;
      try {
        parsePlatform(text);
      } catch (caught) {
        error = caught;
      }
      expect(InvalidInputError.isInstance(error)).toBe(true);
      expect((error as InvalidInputError).code).toBe(GhcrErrorCode.INVALID_PLATFORM);
      expect((error as Error).message).toMatch(problem);
      expect((error as Error).message).toMatch(/os\/arch\[\/variant\]/);
    });
  }

  it('parse(format(p)) round-trips (property)', () => {
    const name = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,15}$/);
    fc.assert(
      fc.property(
        name,
        name,
        fc.option(name, { nil: undefined }),
        fc.option(fc.stringMatching(/^\d{1,2}(\.\d{1,5}){0,3}$/), { nil: undefined }),
        (os, architecture, variant, osVersion) => {
          const platform: Platform = {
            os,
            architecture,
            ...definedProps({ variant }),
            ...(osVersion === undefined ? {} : { 'os.version': osVersion }),
          };
          expect(parsePlatform(formatPlatform(platform))).toEqual(platform);
        },
      ),
    );
  });
});

describe('platformMatches', () => {
  const table: [string, Partial<Platform>, string, Partial<Platform>, boolean][] = [
    ['linux/amd64', {}, 'linux/amd64', {}, true],
    ['linux/amd64', {}, 'linux/x86_64', {}, true],
    ['linux/arm64/v8', {}, 'linux/arm64', {}, true],
    ['linux/arm64', {}, 'linux/arm64/v8', {}, true],
    ['linux/aarch64', {}, 'linux/arm64/v8', {}, true],
    ['linux/arm64/v9', {}, 'linux/arm64', {}, false],
    ['linux/arm/v7', {}, 'linux/arm', {}, true],
    ['linux/armhf', {}, 'linux/arm/v7', {}, true],
    ['linux/arm/v6', {}, 'linux/arm/v7', {}, false],
    ['linux/armel', {}, 'linux/arm/v6', {}, true],
    ['linux/amd64', {}, 'linux/arm64', {}, false],
    ['linux/amd64', {}, 'windows/amd64', {}, false],
    ['windows/amd64', { 'os.version': '10.0.17763.1234' }, 'windows/amd64', {}, true],
    [
      'windows/amd64',
      { 'os.version': '10.0.17763.1234' },
      'windows/amd64',
      { 'os.version': '10.0.17763' },
      true,
    ],
    [
      'windows/amd64',
      { 'os.version': '10.0.17763.1234' },
      'windows/amd64',
      { 'os.version': '10.0.17763.5678' },
      true,
    ],
    [
      'windows/amd64',
      { 'os.version': '10.0.20348.1' },
      'windows/amd64',
      { 'os.version': '10.0.17763' },
      false,
    ],
    ['windows/amd64', {}, 'windows/amd64', { 'os.version': '10.0.17763' }, false],
    [
      'windows/amd64',
      { 'os.features': ['win32k', 'x'] },
      'windows/amd64',
      { 'os.features': ['win32k'] },
      true,
    ],
    ['windows/amd64', { 'os.features': ['x'] }, 'windows/amd64', { 'os.features': ['win32k'] }, false],
    ['windows/amd64', {}, 'windows/amd64', { 'os.features': ['win32k'] }, false],
  ];
  for (const [candidate, candidateExtra, wanted, wantedExtra, expected] of table) {
    it(`${candidate} ${JSON.stringify(candidateExtra)} for ${wanted} ${JSON.stringify(wantedExtra)}: ${expected}`, () => {
      expect(platformMatches(p(candidate, candidateExtra), p(wanted, wantedExtra))).toBe(expected);
    });
  }
});

const digestFor = (text: string) =>
  `sha256:${Buffer.from(text).toString('hex').padEnd(64, '0').slice(0, 64)}` as const;
function entry(
  platform: Platform | undefined,
  label = platform === undefined ? 'none' : formatPlatform(platform),
): Descriptor {
  return {
    mediaType: MediaType.OciManifest,
    digest: digestFor(label),
    size: 100,
    ...definedProps({ platform }),
  };
}
function indexOf(...entries: Descriptor[]): ParsedIndex {
  return buildIndex({ manifests: entries });
}

describe('selectPlatformManifest', () => {
  it('picks the entry for the wanted platform from the fixtures', () => {
    for (const name of ['oci-index-2-platforms.json', 'docker-manifest-list-2-platforms.json']) {
      const parsed = parseManifest(
        readFileSync(new URL(`../../../fixtures/manifests/${name}`, import.meta.url)),
      );
      if (!isIndex(parsed)) throw new Error('fixture is not an index');
      const [amd64, arm64] = parsed.manifest.manifests;
      expect(selectPlatformManifest(parsed, parsePlatform('linux/amd64'))).toBe(amd64);
      expect(selectPlatformManifest(parsed, parsePlatform('linux/x86_64'))).toBe(amd64);
      expect(selectPlatformManifest(parsed, parsePlatform('linux/arm64'))).toBe(arm64);
      expect(selectPlatformManifest(parsed, parsePlatform('linux/aarch64'))).toBe(arm64);
      expect(selectPlatformManifest(parsed, parsePlatform('linux/arm64/v8'))).toBe(arm64);
      expect(selectPlatformManifest(parsed, parsePlatform('linux/arm/v7'))).toBeUndefined();
      expect(selectPlatformManifest(parsed, parsePlatform('windows/amd64'))).toBeUndefined();
    }
  });

  it('arm64 with and without v8 are the same platform; the variant written as asked wins a tie', () => {
    const bare = entry({ os: 'linux', architecture: 'arm64' }, 'bare');
    const v8 = entry({ os: 'linux', architecture: 'arm64', variant: 'v8' }, 'v8');
    expect(selectPlatformManifest(indexOf(bare, v8), p('linux/arm64/v8'))).toEqual(v8);
    expect(selectPlatformManifest(indexOf(v8, bare), p('linux/arm64'))).toEqual(bare);
    expect(selectPlatformManifest(indexOf(bare), p('linux/arm64/v8'))).toEqual(bare);
    expect(selectPlatformManifest(indexOf(v8), p('linux/arm64'))).toEqual(v8);
  });

  it('arm: the exact variant beats a compatible older one; the newest compatible one is the fallback', () => {
    const v5 = entry(p('linux/arm/v5'));
    const v6 = entry(p('linux/arm/v6'));
    const v7 = entry(p('linux/arm/v7'));
    expect(selectPlatformManifest(indexOf(v5, v6, v7), p('linux/arm/v7'))).toEqual(v7);
    expect(selectPlatformManifest(indexOf(v5, v6, v7), p('linux/arm'))).toEqual(v7);
    expect(selectPlatformManifest(indexOf(v5, v6), p('linux/arm/v7'))).toEqual(v6);
    expect(selectPlatformManifest(indexOf(v6, v5), p('linux/armhf'))).toEqual(v6);
    expect(selectPlatformManifest(indexOf(v5, v6, v7), p('linux/arm/v6'))).toEqual(v6);
    expect(selectPlatformManifest(indexOf(v7), p('linux/arm/v6'))).toBeUndefined();
    expect(selectPlatformManifest(indexOf(v7), p('linux/armel'))).toBeUndefined();
  });

  it('amd64 microarchitecture levels: v3 host runs v2, a v1 host does not run v3', () => {
    const plain = entry(p('linux/amd64'));
    const v2 = entry(p('linux/amd64/v2'));
    const v3 = entry(p('linux/amd64/v3'));
    expect(selectPlatformManifest(indexOf(plain, v2), p('linux/amd64/v3'))).toEqual(v2);
    expect(selectPlatformManifest(indexOf(plain, v3), p('linux/amd64'))).toEqual(plain);
    expect(selectPlatformManifest(indexOf(v3), p('linux/amd64'))).toBeUndefined();
  });

  it('never crosses architectures (arm64 does not fall back to arm)', () => {
    expect(selectPlatformManifest(indexOf(entry(p('linux/arm/v7'))), p('linux/arm64'))).toBeUndefined();
  });

  it('windows: os.version must share major.minor.build; an exact version beats a build match', () => {
    const ltsc2019 = entry(p('windows/amd64', { 'os.version': '10.0.17763.1000' }), 'a');
    const ltsc2019Patched = entry(p('windows/amd64', { 'os.version': '10.0.17763.2000' }), 'b');
    const ltsc2022 = entry(p('windows/amd64', { 'os.version': '10.0.20348.100' }), 'c');
    const index = indexOf(ltsc2019, ltsc2019Patched, ltsc2022);
    expect(selectPlatformManifest(index, p('windows/amd64', { 'os.version': '10.0.20348' }))).toEqual(
      ltsc2022,
    );
    expect(selectPlatformManifest(index, p('windows/amd64', { 'os.version': '10.0.17763' }))).toEqual(
      ltsc2019,
    );
    expect(selectPlatformManifest(index, p('windows/amd64', { 'os.version': '10.0.17763.2000' }))).toEqual(
      ltsc2019Patched,
    );
    expect(selectPlatformManifest(index, p('windows/amd64', { 'os.version': '10.0.14393' }))).toBeUndefined();
    expect(selectPlatformManifest(index, p('windows/amd64'))).toEqual(ltsc2019);
  });

  it('os.features where wanted', () => {
    const plain = entry(p('windows/amd64'), 'plain');
    const win32k = entry(p('windows/amd64', { 'os.features': ['win32k'] }), 'win32k');
    expect(
      selectPlatformManifest(indexOf(plain, win32k), p('windows/amd64', { 'os.features': ['win32k'] })),
    ).toEqual(win32k);
  });

  it('skips unknown/unknown attestation entries and entries without a platform', () => {
    const attestation = {
      ...entry({ os: 'unknown', architecture: 'unknown' }),
      annotations: { 'vnd.docker.reference.type': 'attestation-manifest' },
    };
    const index = indexOf(entry(undefined), attestation, entry(p('linux/amd64')));
    expect(selectPlatformManifest(index, p('unknown/unknown'))).toBeUndefined();
    expect(selectPlatformManifest(index, p('linux/amd64'))?.platform).toEqual(p('linux/amd64'));
    expect(listPlatforms(index)).toEqual([p('linux/amd64')]);
  });
});

describe('listPlatforms', () => {
  it('lists the fixture platforms as written', () => {
    const parsed = parseManifest(
      readFileSync(new URL('../../../fixtures/manifests/oci-index-2-platforms.json', import.meta.url)),
    );
    if (!isIndex(parsed)) throw new Error('fixture is not an index');
    expect(listPlatforms(parsed).map(formatPlatform)).toEqual(['linux/amd64', 'linux/arm64/v8']);
  });
});
