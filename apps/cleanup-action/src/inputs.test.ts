import { describe, expect, it } from 'vitest';
import { type ActionInputs, expandLongUnits, parseInputs, readInput } from './inputs.js';
import { actionEnvironment } from './testing/support.js';

const BASE = { owner: 'Octo-Org', packages: 'app', token: 'ghp_exampletoken' };

function ok(inputs: Record<string, string>, extra: Record<string, string> = {}): ActionInputs {
  const parsed = parseInputs(actionEnvironment({ ...BASE, ...inputs }, extra));
  if (!parsed.ok) throw new Error(parsed.problems.map((problem) => problem.message).join('\n'));
  return parsed.inputs;
}

function problems(inputs: Record<string, string>, extra: Record<string, string> = {}): [string, string][] {
  const parsed = parseInputs(actionEnvironment({ ...BASE, ...inputs }, extra));
  return parsed.ok ? [] : parsed.problems.map((problem) => [problem.input, problem.message]);
}

describe('parseInputs', () => {
  it('has safe defaults: a dry run, created_at, ghcr.io, the public API, the gate off', () => {
    const inputs = ok({});
    expect(inputs).toMatchObject({
      owner: 'octo-org',
      packages: ['app'],
      dryRun: true,
      validate: false,
      gate: undefined,
      registry: 'ghcr.io',
      apiUrl: 'https://api.github.com',
    });
    expect(inputs.policy).toEqual({
      keepTags: [],
      deleteTags: [],
      timestamp: 'created_at',
      untaggedOnly: false,
      keepDigests: [],
    });
  });

  it('maps every rule input onto the retention policy', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    const other = `sha256:${'b'.repeat(64)}`;
    const inputs = ok({
      packages: 'app, team/app\nteam/app',
      'keep-n-tagged': '10',
      'keep-n-untagged': '0',
      'keep-tags': `latest, v*\n${digest}`,
      'delete-tags': 'pr-*',
      'older-than': '1 year 2 weeks',
      timestamp: 'updated_at',
      'untagged-only': 'True',
      'keep-digests': other,
      'dry-run': 'false',
    });
    expect(inputs.packages).toEqual(['app', 'team/app']);
    expect(inputs.dryRun).toBe(false);
    expect(inputs.policy).toEqual({
      keepNewestTagged: 10,
      keepNewestUntagged: 0,
      keepTags: ['latest', 'v*'],
      deleteTags: ['pr-*'],
      olderThan: (365 + 14) * 86_400_000,
      timestamp: 'updated_at',
      untaggedOnly: true,
      keepDigests: [digest, other],
    });
  });

  it('use-regex reads one expression per line, commas included', () => {
    const inputs = ok({
      'use-regex': 'true',
      'keep-tags': '^v\\d{1,3}\\.\\d+$\n/^rc/i',
      'delete-tags': '^pr-',
    });
    expect(inputs.policy.keepTags).toEqual(['/^v\\d{1,3}\\.\\d+$/', '/^rc/i']);
    expect(inputs.policy.deleteTags).toEqual(['/^pr-/']);
  });

  it('reads the underscore spelling, and the runner variables for owner and api-url', () => {
    const env = {
      INPUT_PACKAGES: 'app',
      INPUT_TOKEN: 't0ken-value',
      INPUT_KEEP_N_TAGGED: '3',
      GITHUB_REPOSITORY_OWNER: 'octocat',
      GITHUB_API_URL: 'https://ghe.example.com/api/v3/',
    };
    expect(readInput(env, 'keep-n-tagged')).toBe('3');
    const parsed = parseInputs(env);
    expect(parsed.ok && parsed.inputs).toMatchObject({
      owner: 'octocat',
      apiUrl: 'https://ghe.example.com/api/v3',
      policy: { keepNewestTagged: 3 },
    });
  });

  it('the gate: inputs, defaults, and a gate on its own needs no package', () => {
    const parsed = parseInputs(
      actionEnvironment({
        token: 't0ken-value',
        'gate-image': 'octo/app:1.0',
        'gate-ignore': 'CVE-1, GHSA-x',
      }),
    );
    expect(parsed.ok && parsed.inputs.gate).toEqual({
      image: 'octo/app:1.0',
      failOn: 'high',
      ignore: ['CVE-1', 'GHSA-x'],
      whenNoReport: 'fail',
      allowUnverified: false,
    });
    expect(
      ok({ 'gate-image': 'octo/app:1.0', 'gate-fail-on': 'CRITICAL', 'gate-no-report': 'pass' }).gate,
    ).toMatchObject({
      failOn: 'critical',
      whenNoReport: 'pass',
    });
    expect(
      ok({
        'gate-image': 'octo/app:1.0',
        'gate-certificate-identity':
          'https://github.com/octo/app/.github/workflows/release.yml@refs/heads/main',
        'gate-certificate-oidc-issuer': 'https://token.actions.githubusercontent.com',
        'gate-trusted-root': 'trusted_root.json',
        'gate-allow-unverified': 'false',
      }).gate,
    ).toMatchObject({
      policy: {
        certificateIdentity: 'https://github.com/octo/app/.github/workflows/release.yml@refs/heads/main',
        certificateOidcIssuer: 'https://token.actions.githubusercontent.com',
        trustedRoot: 'trusted_root.json',
      },
      allowUnverified: false,
    });
  });

  it('names every bad input at once', () => {
    expect(
      problems({
        'keep-n-tagged': '-1',
        'keep-n-untagged': '2.5',
        timestamp: 'modified',
        'older-than': '30',
        'untagged-only': 'yes',
        'keep-digests': 'sha256:abc',
        'delete-tags': 'sha256:abc',
        'gate-image': 'octo/app:1.0',
        'gate-fail-on': 'severe',
        'api-url': 'ftp://example.com',
        registry: 'ghcr.io/octo',
      }).map(([input]) => input),
    ).toEqual([
      'keep-n-tagged',
      'keep-n-untagged',
      'delete-tags',
      'keep-digests',
      'older-than',
      'timestamp',
      'untagged-only',
      'gate-fail-on',
      'api-url',
      'registry',
    ]);
  });

  it('says what each bad input should look like', () => {
    expect(problems({ 'keep-n-tagged': '-1' })).toEqual([
      [
        'keep-n-tagged',
        'must be a whole number, 0 or more (how many of the newest tagged images to keep), got "-1"',
      ],
    ]);
    expect(problems({ timestamp: 'modified' })).toEqual([
      ['timestamp', 'must be one of created_at, updated_at, got "modified"'],
    ]);
    expect(problems({ 'older-than': 'soon' })[0]?.[0]).toBe('older-than');
    expect(problems({ 'older-than': 'soon' })[0]?.[1]).toMatch(/soon.*(30d|duration)/);
    expect(problems({ 'use-regex': 'true', 'keep-tags': 'v1\n(unclosed' })).toEqual([
      ['keep-tags', expect.stringMatching(/not a valid regular expression.*\(entry 2\)$/)],
    ]);
    expect(problems({ packages: 'App' })[0]?.[0]).toBe('packages');
    expect(problems({ packages: '' })).toEqual([
      ['packages', 'is empty: name the packages to clean up (or give gate-image to run the gate only)'],
    ]);
    expect(problems({ token: '' })[0]?.[0]).toBe('token');
    expect(problems({ owner: '' })).toEqual([
      ['owner', 'is empty and GITHUB_REPOSITORY_OWNER is not set: name the user or organisation'],
    ]);
    expect(problems({ 'gate-ignore': 'CVE-1' })).toEqual([
      ['gate-ignore', 'is set, but gate-image is not: name the image to judge'],
    ]);
    expect(problems({ packages: '', validate: 'true', 'gate-image': 'octo/app:1' })).toEqual([
      ['validate', 'needs packages to validate'],
    ]);
  });

  it('reads the mode, the API budget and the state file', () => {
    expect(ok({})).toMatchObject({ mode: 'cleanup', budget: 5000, stateFile: undefined });
    expect(ok({ token: 'ghs_installationtoken' }).budget).toBe(1000);
    expect(ok({ budget: '250' }).budget).toBe(250);
    expect(ok({ mode: 'list' }).mode).toBe('list');
    // Sync needs no packages, only its config (resolved against the workspace).
    expect(ok({ mode: 'sync', packages: '', 'sync-config': '.github/mirrors.yml' })).toMatchObject({
      mode: 'sync',
      syncConfig: expect.stringMatching(/\.github\/mirrors\.yml$/),
    });
    expect(ok({ validate: 'true' })).toMatchObject({ mode: 'validate', validate: true });
    // As the runner passes it: mode's default alongside validate: true.
    expect(ok({ validate: 'true', mode: 'cleanup' })).toMatchObject({ mode: 'validate', validate: true });
    expect(ok({ 'state-file': '.ghcr/state.json' }, { GITHUB_WORKSPACE: '/work/space' }).stateFile).toBe(
      '/work/space/.ghcr/state.json',
    );
    expect(problems({ budget: '0' })).toEqual([
      [
        'budget',
        'must be auto or a whole number of GitHub API requests, 1 or more (GITHUB_TOKEN allows 1000 an hour, a PAT 5000), got "0"',
      ],
    ]);
    expect(problems({ mode: 'mirror' })).toEqual([
      ['mode', 'must be one of cleanup, validate, list, sync, got "mirror"'],
    ]);
    expect(problems({ mode: 'list', validate: 'true' })).toEqual([
      ['validate', 'is true, but mode is "list": give one of them'],
    ]);
  });

  it('takes the token from GITHUB_TOKEN when the input is empty, and the gate defaults the runner passes', () => {
    expect(ok({ token: '' }, { GITHUB_TOKEN: 'ghs_fromtheenvironment' })).toMatchObject({
      token: 'ghs_fromtheenvironment',
      budget: 1000,
    });
    // action.yml's defaults arrive as INPUT_GATE-FAIL-ON=high and INPUT_GATE-NO-REPORT=fail.
    expect(ok({ 'gate-fail-on': 'high', 'gate-no-report': 'fail' }).gate).toBeUndefined();
    expect(problems({ 'gate-fail-on': 'critical' })[0]?.[0]).toBe('gate-fail-on');
  });

  it('never puts the token in a problem', () => {
    const parsed = parseInputs(actionEnvironment({ ...BASE, token: 'ghp_secret', 'keep-n-tagged': 'x' }));
    expect(JSON.stringify(parsed)).not.toContain('ghp_secret');
  });
});

describe('expandLongUnits', () => {
  it('min-age: a duration, 0 for off, omitted for the executor default', () => {
    expect(ok({}).minAge).toBeUndefined();
    expect(ok({ 'min-age': '15m' }).minAge).toBe(15 * 60_000);
    expect(ok({ 'min-age': '0' }).minAge).toBe(0);
    expect(problems({ 'min-age': 'soon' })).toEqual([
      ['min-age', expect.stringContaining('invalid duration "soon"')],
    ]);
  });

  it('turns years and months into days, leaving minutes alone', () => {
    expect(expandLongUnits('1 year')).toBe('365d');
    expect(expandLongUnits('6 months')).toBe('180d');
    expect(expandLongUnits('2y3mo')).toBe('730d90d');
    expect(expandLongUnits('5m')).toBe('5m');
    expect(expandLongUnits('30 minutes')).toBe('30 minutes');
  });
});
