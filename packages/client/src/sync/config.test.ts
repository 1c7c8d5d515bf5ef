import { describe, expect, it } from 'vitest';
import { parseSyncConfig, SyncConfigError } from './config.js';
import { selectTags } from './tag-selection.js';

function errorOf(text: string): SyncConfigError {
  try {
    parseSyncConfig(text, 'mirrors.yml');
  } catch (error) {
    if (SyncConfigError.isInstance(error)) return error as SyncConfigError;
    throw error;
  }
  throw new Error('expected a SyncConfigError');
}

describe('parseSyncConfig', () => {
  it('applies defaults and keeps each pair line', () => {
    const config = parseSyncConfig(`defaults:
  referrers: true
sync:
  - source: docker.io/library/alpine
    target: ghcr.io/octo/alpine
    tags: { semver: '>=3.19 <4', newest: 2 }
  - source: quay.io/prometheus/node-exporter:v1.8.0
    target: ghcr.io/octo/node-exporter
    referrers: false
`);
    expect(config.rateLimit).toEqual({ floor: 10, onLimit: 'stop', maxWaitSeconds: 21_600 });
    expect(config.pairs[0]).toMatchObject({
      referrers: true,
      digestTags: false,
      tags: { semver: '>=3.19 <4', newest: { count: 2, by: 'semver' } },
      line: 4,
    });
    expect(config.pairs[1]).toMatchObject({ referrers: false, tags: { list: ['v1.8.0'] }, line: 7 });
  });

  it('names the line and the field of what is wrong', () => {
    const bad = errorOf(`sync:
  - source: docker.io/library/alpine
    target: ghcr.io/octo/alpine
    tags:
      semver: 'not a range'
`);
    expect(bad.code).toBe('GHCR_SYNC_CONFIG');
    expect(bad.line).toBe(5);
    expect(bad.field).toBe('sync.0.tags.semver');
    expect(bad.message).toMatch(/^mirrors\.yml:5: sync\.0\.tags\.semver is not a semver range/);

    const unknown = errorOf(`sync:\n  - source: a.io/x\n    target: ghcr.io/o/x\n    tag: [1]\n`);
    expect(unknown.message).toMatch(/^mirrors\.yml:2: sync\.0 .*tag/);

    const numeric = errorOf(`sync:\n  - source: a.io/x\n    target: ghcr.io/o/x\n    tags: [3.10]\n`);
    expect(numeric.message).toContain('mirrors.yml:4: sync.0.tags.0 is the number 3.1; quote it');

    expect(errorOf('sync: [').message).toMatch(/^mirrors\.yml:1: not valid YAML/);
    expect(errorOf('sync: []').message).toMatch(/sync lists no pairs/);
    expect(errorOf(`sync:\n  - source: 'docker.io/UPPER'\n    target: ghcr.io/o/x\n`).message).toMatch(
      /^mirrors\.yml:2: sync\.0\.source is not an image reference/,
    );
  });

  it('refuses credentials in the file, pointing at the credential chain', () => {
    const error = errorOf(`sync:
  - source: docker.io/library/alpine
    target: ghcr.io/octo/alpine
    password: hunter2
`);
    expect(error.field).toBe('sync.0.password');
    expect(error.line).toBe(4);
    expect(error.message).toContain('credentials are never written in a sync config');
    expect(error.message).not.toContain('hunter2');
  });
});

describe('selectTags', () => {
  const tags = [
    'latest',
    '1.2.0',
    'v1.3.1',
    '1.9.9-rc.1',
    '2.0.0',
    '2.0.0-beta',
    '1.2',
    'edge',
    '1.10.0',
    `sha256-${'a'.repeat(64)}.sig`,
  ];

  it('semver ranges: v-prefix accepted, prereleases left out unless asked, non-semver tags noted', () => {
    const selected = selectTags(tags, { semver: '>=1.2 <2' });
    expect(selected.tags).toEqual(['1.2.0', 'v1.3.1', '1.10.0']);
    expect(selected.notes).toContain('not semver, skipped by the range >=1.2 <2: latest, 1.2, edge');
    expect(
      selected.notes.some((note) => note.includes('prereleases skipped') && note.includes('1.9.9-rc.1')),
    ).toBe(true);
    expect(selectTags(tags, { semver: '>=1.2 <2', prerelease: true }).tags).toEqual([
      '1.2.0',
      'v1.3.1',
      '1.9.9-rc.1',
      '1.10.0',
    ]);
    expect(selectTags(tags, { semver: '>=v2' }).tags).toEqual(['2.0.0']);
  });

  it('lists, globs, regexes and deny; digest tags never by selection', () => {
    expect(selectTags(tags, { list: ['latest', 'gone'] })).toEqual({
      tags: ['latest'],
      notes: ['tag gone is listed but the source has no such tag'],
    });
    expect(selectTags(tags, { glob: ['1.*'], deny: ['*-rc*'] }).tags).toEqual(['1.2.0', '1.2', '1.10.0']);
    expect(selectTags(tags, { regex: ['v?\\d+\\.\\d+\\.\\d+'] }).tags).toEqual([
      '1.2.0',
      'v1.3.1',
      '2.0.0',
      '1.10.0',
    ]);
    expect(selectTags(tags, {}).tags).not.toContain(tags[9]);
  });

  it('newest N by semver order', () => {
    const selected = selectTags(tags, { glob: ['*'], newest: { count: 2, by: 'semver' } });
    expect(selected.tags).toEqual(['2.0.0', '2.0.0-beta']);
    expect(selectTags(tags, { semver: '*', newest: { count: 2, by: 'semver' } }).tags).toEqual([
      '2.0.0',
      '1.10.0',
    ]);
  });
});
