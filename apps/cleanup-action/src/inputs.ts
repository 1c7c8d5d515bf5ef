/**
 * The action's inputs, read from the `INPUT_<NAME>` variables the runner sets (name upper-cased,
 * spaces as `_`, hyphens kept: `INPUT_KEEP-N-TAGGED`), validated all at once so that one run
 * reports every bad input, each by its name.
 */
import { resolve } from 'node:path';
import {
  GITHUB_TOKEN_HOURLY_REQUESTS,
  PAT_HOURLY_REQUESTS,
  parseDuration,
  parseRetentionPolicy,
  type ResolvedRetentionPolicy,
} from '@ghcr/client';
import { definedProps, GhcrError, isDigest, SEVERITIES, type Severity } from '@ghcr/oci-types';

/**
 * Environment variables as the runner passes them.
 * @public
 */
export type ActionEnvironment = Readonly<Record<string, string | undefined>>;

/**
 * One bad input: its name (as written in `with:`) and what is wrong with it.
 * @public
 */
export interface InputProblem {
  readonly input: string;
  readonly message: string;
}

/**
 * The vulnerability gate's inputs.
 * @public
 */
export interface GateInputs {
  /** `gate-image`: the image to judge (`owner/name:tag`, `owner/name@sha256:…`, with or without the registry). */
  readonly image: string;
  /** `gate-fail-on`: block on findings at or above this severity. */
  readonly failOn: Severity;
  /** `gate-ignore`: vulnerability ids never to block on. */
  readonly ignore: readonly string[];
  /** `gate-no-report`: what an image without a readable report means. */
  readonly whenNoReport: 'fail' | 'pass';
  /**
   * The signature policy reports must verify under: `gate-key` (a PEM public key, or a path to one),
   * or `gate-certificate-identity`(`-regexp`) with `gate-certificate-oidc-issuer` and
   * `gate-trusted-root` (a path to trusted_root.json). Paths are read when the gate runs.
   */
  readonly policy?: GatePolicyInputs;
  /** `gate-allow-unverified`: count unsigned or unverified reports too (the trusting mode). */
  readonly allowUnverified: boolean;
}

/**
 * The gate's signature-policy inputs, as given.
 * @public
 */
export interface GatePolicyInputs {
  readonly key?: string;
  readonly certificateIdentity?: string;
  readonly certificateIdentityRegexp?: string;
  readonly certificateOidcIssuer?: string;
  readonly trustedRoot?: string;
}

/**
 * What the action does (`mode`): `cleanup` (retention; the default), `validate` (report broken
 * images, change nothing), `list` (only list the selected packages, as the `matrix` output for a
 * fan-out) or `sync` (keep mirrors of other registries' images in step, from `sync-config`). A new
 * mode is added here, validated in {@link parseInputs}, and run in `runAction`.
 * @public
 */
export const ACTION_MODES = ['cleanup', 'validate', 'list', 'sync'] as const;

/**
 * One of {@link ACTION_MODES}.
 * @public
 */
export type ActionMode = (typeof ACTION_MODES)[number];

/**
 * The inputs after validation.
 * @public
 */
export interface ActionInputs {
  /** `mode` (`validate: true` is the same as `mode: validate`). */
  readonly mode: ActionMode;
  /**
   * `budget`: GitHub API requests this run may send. `auto` (the default): 1,000 for
   * `GITHUB_TOKEN` (an installation token, `ghs_…`), 5,000 for any other token; GitHub's own
   * `x-ratelimit-remaining` lowers it further when other steps spent some.
   */
  readonly budget: number;
  /** `state-file`: where the run records which packages it finished, to continue there next run. */
  readonly stateFile: string | undefined;
  /** `owner` (lower-cased, as registry paths are), or `GITHUB_REPOSITORY_OWNER`; undefined only when no package is given. */
  readonly owner: string | undefined;
  /** `packages`: package names under the owner (`app`, `team/app`); `*` and `?` are expanded from the owner's packages. */
  readonly packages: readonly string[];
  /** `token` (registered as a secret before anything is parsed). */
  readonly token: string;
  /** The retention policy built from the rule inputs, validated. */
  readonly policy: ResolvedRetentionPolicy;
  /** `dry-run`: plan and report, delete nothing. */
  readonly dryRun: boolean;
  /** `min-age` in ms: never delete a version created or updated within it. If omitted, the executor's 10 minutes. */
  readonly minAge?: number;
  /** `validate`: report broken images, make no plan, delete nothing. */
  readonly validate: boolean;
  /** The gate, when `gate-image` is given. */
  readonly gate: GateInputs | undefined;
  /** `api-url`, without a trailing slash. */
  readonly apiUrl: string;
  /** `registry`: `host[:port]` or `http(s)://host[:port]`. */
  readonly registry: string;
  /** `sync-config` (mode `sync`): the sync config's path, resolved against the workspace. */
  readonly syncConfig?: string;
}

/**
 * What {@link parseInputs} found.
 * @public
 */
export type ParsedInputs =
  | { readonly ok: true; readonly inputs: ActionInputs }
  | { readonly ok: false; readonly problems: readonly InputProblem[] };

/** The public REST API, used when neither `api-url` nor `GITHUB_API_URL` is set. */
const DEFAULT_API_URL = 'https://api.github.com';

/**
 * The token: the `token` input, else the `GITHUB_TOKEN` variable; `''` when neither is set.
 * @public
 */
export function tokenOf(env: ActionEnvironment): string {
  return readInput(env, 'token') || env.GITHUB_TOKEN?.trim() || '';
}

/**
 * Reads one input as the runner passes it (`INPUT_KEEP-N-TAGGED`; `INPUT_KEEP_N_TAGGED` is
 * accepted too, for runners that do not allow `-` in names), trimmed; `''` when not set.
 * @public
 */
export function readInput(env: ActionEnvironment, name: string): string {
  const upper = name.replace(/ /g, '_').toUpperCase();
  const value = env[`INPUT_${upper}`] ?? env[`INPUT_${upper.replace(/-/g, '_')}`] ?? '';
  return value.trim();
}

// GitHub's YAML 1.2 core-schema booleans, as @actions/core's getBooleanInput reads them.
const TRUE = new Set(['true', 'True', 'TRUE']);
const FALSE = new Set(['false', 'False', 'FALSE']);

// An OCI repository path component, as package names are: lower case, separators inside.
const PACKAGE_NAME = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const PACKAGE_GLOB = /^[a-z0-9._*?-]+(?:\/[a-z0-9._*?-]+)*$/;
const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
const YEAR_OR_MONTH = /(\d+(?:\.\d+)?)\s*(years?|yrs?|y|months?|mos?)(?![a-z])/gi;

class Reader {
  readonly problems: InputProblem[] = [];
  constructor(private readonly env: ActionEnvironment) {}

  text(name: string): string {
    return readInput(this.env, name);
  }

  problem(input: string, message: string): void {
    this.problems.push({ input, message });
  }

  boolean(name: string, fallback: boolean): boolean {
    const value = this.text(name);
    if (value === '') return fallback;
    if (TRUE.has(value)) return true;
    if (FALSE.has(value)) return false;
    this.problem(name, `must be true or false, got "${value}"`);
    return fallback;
  }

  count(name: string, what: string): number | undefined {
    const value = this.text(name);
    if (value === '') return undefined;
    if (/^\d+$/.test(value) && Number.isSafeInteger(Number(value))) return Number(value);
    this.problem(name, `must be a whole number, 0 or more (${what}), got "${value}"`);
    return undefined;
  }

  /** Entries separated by newlines, and by commas too unless `commas` is false; blanks dropped. */
  list(name: string, commas = true): string[] {
    const value = this.text(name);
    if (value === '') return [];
    return value
      .split(commas ? /[\n,]/ : /\n/)
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '');
  }

  choice<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.text(name);
    if (value === '') return fallback;
    const found = allowed.find((option) => option === value.toLowerCase());
    if (found !== undefined) return found;
    this.problem(name, `must be one of ${allowed.join(', ')}, got "${value}"`);
    return fallback;
  }
}

/**
 * Converts the years and months of a duration (`1 year`, `6 months`, `2y`, `3mo`) into days
 * (365 and 30), which `parseDuration` reads, so the human-interval forms other cleanup actions
 * accept work here too. `m` stays minutes.
 * @internal
 */
export function expandLongUnits(value: string): string {
  return value.replace(YEAR_OR_MONTH, (_whole, amount: string, unit: string) => {
    const days = Number(amount) * (unit.toLowerCase().startsWith('y') ? 365 : 30);
    return `${days}d`;
  });
}

/** `min-age`: a duration (`0` turns it off), or undefined for the default. */
function minAge(reader: Reader): number | undefined {
  const value = reader.text('min-age');
  if (value === '') return undefined;
  try {
    return parseDuration(value === '0' ? 0 : expandLongUnits(value));
  } catch (error) {
    reader.problem('min-age', GhcrError.isInstance(error) ? error.message : String(error));
    return undefined;
  }
}

function olderThan(reader: Reader): number | undefined {
  const value = reader.text('older-than');
  if (value === '') return undefined;
  if (/^\d+(?:\.\d+)?$/.test(value)) {
    reader.problem(
      'older-than',
      `"${value}" has no unit; write a duration such as 30d, 12h, 2w, 90 minutes, 6 months or 1 year`,
    );
    return undefined;
  }
  try {
    return parseDuration(expandLongUnits(value));
  } catch (error) {
    const why = GhcrError.isInstance(error) ? error.message : String(error);
    reader.problem('older-than', `${why} (months count 30 days, years 365)`);
    return undefined;
  }
}

/** `use-regex`: each line is a regular expression (commas belong to the expression: `\d{1,3}`). */
function tagPatterns(reader: Reader, name: string, useRegex: boolean): string[] {
  return reader
    .list(name, !useRegex)
    .map((entry) => (useRegex && !/^\/.+\/[a-z]*$/s.test(entry) ? `/${entry}/` : entry));
}

const POLICY_FIELD_INPUT: Record<string, string> = {
  keepNewestTagged: 'keep-n-tagged',
  keepNewestUntagged: 'keep-n-untagged',
  keepTags: 'keep-tags',
  deleteTags: 'delete-tags',
  olderThan: 'older-than',
  timestamp: 'timestamp',
  untaggedOnly: 'untagged-only',
  keepDigests: 'keep-digests',
};

function retentionPolicy(reader: Reader): ResolvedRetentionPolicy | undefined {
  const useRegex = reader.boolean('use-regex', false);
  const keepNewestTagged = reader.count('keep-n-tagged', 'how many of the newest tagged images to keep');
  const keepNewestUntagged = reader.count(
    'keep-n-untagged',
    'how many of the newest untagged images to keep',
  );
  const keepEntries = tagPatterns(reader, 'keep-tags', useRegex);
  // A digest among the tags to keep (dataaxiom's exclude-tags allows them) keeps that version.
  const keepTags = keepEntries.filter((entry) => !isDigest(entry));
  const keepDigests = [...keepEntries.filter((entry) => isDigest(entry))];
  const deleteTags = tagPatterns(reader, 'delete-tags', useRegex);
  for (const entry of deleteTags) {
    if (/^(?:\/)?sha256:/.test(entry)) {
      reader.problem(
        'delete-tags',
        `"${entry}" is a digest; delete-tags selects images by tag (use a tag pattern, or untagged images are cleaned up by default)`,
      );
    }
  }
  for (const digest of reader.list('keep-digests')) {
    if (isDigest(digest)) keepDigests.push(digest);
    else reader.problem('keep-digests', `"${digest}" is not a digest such as sha256:<64 hex digits>`);
  }
  const age = olderThan(reader);
  const timestamp = reader.choice('timestamp', ['created_at', 'updated_at'] as const, 'created_at');
  const untaggedOnly = reader.boolean('untagged-only', false);
  try {
    return parseRetentionPolicy({
      ...definedProps({ keepNewestTagged, keepNewestUntagged }),
      keepTags,
      deleteTags,
      ...definedProps({ olderThan: age }),
      timestamp,
      untaggedOnly,
      keepDigests,
    });
  } catch (error) {
    const field = GhcrError.isInstance(error) && 'field' in error ? String(error.field ?? '') : '';
    const [head, index] = field.split('.');
    const input = POLICY_FIELD_INPUT[head ?? ''] ?? 'keep-tags';
    const entry = index === undefined ? '' : ` (entry ${Number(index) + 1})`;
    const message = error instanceof Error ? error.message : String(error);
    reader.problem(input, `${message}${entry}`);
    return undefined;
  }
}

function packages(reader: Reader): string[] {
  const names = reader.list('packages');
  for (const name of names) {
    const pattern = /[*?]/.test(name);
    if (pattern ? !PACKAGE_GLOB.test(name) : !PACKAGE_NAME.test(name)) {
      reader.problem(
        'packages',
        `"${name}" is not a container package name: lower-case letters, digits, ".", "_", "-" and "/" between parts (e.g. app or team/app; * and ? select several)`,
      );
    }
  }
  return [...new Set(names)];
}

function apiUrl(reader: Reader, env: ActionEnvironment): string {
  const given = reader.text('api-url');
  const value = given !== '' ? given : env.GITHUB_API_URL?.trim() || DEFAULT_API_URL;
  const source = given !== '' ? '' : ' (taken from GITHUB_API_URL)';
  try {
    const url = new URL(value);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError('not http(s)');
    if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '')
      throw new TypeError('has a query, fragment or credentials');
    return url.href.replace(/\/+$/, '');
  } catch {
    reader.problem(
      'api-url',
      `"${value}"${source} is not an http(s) URL such as https://api.github.com (GitHub Enterprise Server: https://HOST/api/v3)`,
    );
    return DEFAULT_API_URL;
  }
}

function registry(reader: Reader): string {
  const value = reader.text('registry').replace(/\/+$/, '') || 'ghcr.io';
  try {
    const url = new URL(value.includes('://') ? value : `https://${value}`);
    if (
      (url.protocol !== 'https:' && url.protocol !== 'http:') ||
      url.pathname !== '/' ||
      url.search !== '' ||
      url.username !== ''
    )
      throw new TypeError('not a registry');
    return value;
  } catch {
    reader.problem(
      'registry',
      `"${value}" is not a registry: give host[:port] such as ghcr.io, or http(s)://host[:port]`,
    );
    return 'ghcr.io';
  }
}

function requestBudget(reader: Reader, token: string): number {
  const value = reader.text('budget');
  if (value === '' || value.toLowerCase() === 'auto')
    return token.startsWith('ghs_') ? GITHUB_TOKEN_HOURLY_REQUESTS : PAT_HOURLY_REQUESTS;
  if (/^\d+$/.test(value) && Number(value) >= 1 && Number.isSafeInteger(Number(value))) return Number(value);
  reader.problem(
    'budget',
    `must be auto or a whole number of GitHub API requests, 1 or more (GITHUB_TOKEN allows 1000 an hour, a PAT 5000), got "${value}"`,
  );
  return 1;
}

function gate(reader: Reader): GateInputs | undefined {
  const image = reader.text('gate-image');
  if (image === '') {
    // The runner passes action.yml's defaults (high, fail, false) as if given: only other values count.
    const defaults: Record<string, string> = {
      'gate-fail-on': 'high',
      'gate-ignore': '',
      'gate-no-report': 'fail',
      'gate-allow-unverified': 'false',
      ...Object.fromEntries(POLICY_INPUTS.map((name) => [name, ''])),
    };
    for (const [name, fallback] of Object.entries(defaults)) {
      const value = reader.text(name);
      if (value !== '' && value.toLowerCase() !== fallback)
        reader.problem(name, 'is set, but gate-image is not: name the image to judge');
    }
    return undefined;
  }
  if (/\s/.test(image)) {
    reader.problem('gate-image', `"${image}" is not one image reference (such as owner/app:1.0)`);
  }
  const policy: Record<string, string> = {};
  const fields: Record<(typeof POLICY_INPUTS)[number], keyof GatePolicyInputs> = {
    'gate-key': 'key',
    'gate-certificate-identity': 'certificateIdentity',
    'gate-certificate-identity-regexp': 'certificateIdentityRegexp',
    'gate-certificate-oidc-issuer': 'certificateOidcIssuer',
    'gate-trusted-root': 'trustedRoot',
  };
  for (const name of POLICY_INPUTS) {
    const value = reader.text(name);
    if (value !== '') policy[fields[name]] = value;
  }
  return {
    image,
    failOn: reader.choice('gate-fail-on', [...SEVERITIES].reverse(), 'high'),
    ignore: reader.list('gate-ignore'),
    whenNoReport: reader.choice('gate-no-report', ['fail', 'pass'] as const, 'fail'),
    ...(Object.keys(policy).length === 0 ? {} : { policy }),
    allowUnverified: reader.boolean('gate-allow-unverified', false),
  };
}

const POLICY_INPUTS = [
  'gate-key',
  'gate-certificate-identity',
  'gate-certificate-identity-regexp',
  'gate-certificate-oidc-issuer',
  'gate-trusted-root',
] as const;

/**
 * Reads and validates every input. Defaults: `dry-run` true (the safe default: nothing is deleted
 * until you say `dry-run: false`), `timestamp` created_at, `registry` ghcr.io, `api-url`
 * `GITHUB_API_URL` (else https://api.github.com), `owner` `GITHUB_REPOSITORY_OWNER`,
 * `gate-fail-on` high, `gate-no-report` fail.
 * @public
 */
export function parseInputs(env: ActionEnvironment): ParsedInputs {
  const reader = new Reader(env);
  const names = packages(reader);
  const policy = retentionPolicy(reader);
  const dryRun = reader.boolean('dry-run', true);
  const age = minAge(reader);
  const validateFlag = reader.boolean('validate', false);
  let mode = reader.choice('mode', ACTION_MODES, 'cleanup');
  if (validateFlag) {
    // The runner passes mode's default (cleanup) as if given: only another mode conflicts.
    if (mode !== 'cleanup' && mode !== 'validate')
      reader.problem('validate', `is true, but mode is "${mode}": give one of them`);
    mode = 'validate';
  }
  const validate = mode === 'validate';
  const gateInputs = gate(reader);
  const resolvedApiUrl = apiUrl(reader, env);
  const resolvedRegistry = registry(reader);
  const token = tokenOf(env);
  const budget = requestBudget(reader, token);
  const syncText = reader.text('sync-config');
  if (mode === 'sync' && syncText === '') {
    reader.problem(
      'sync-config',
      'is empty: give the path of the sync config in the repository (e.g. .github/mirrors.yml)',
    );
  } else if (mode !== 'sync' && syncText !== '') {
    reader.problem('sync-config', `is set, but mode is "${mode}": add mode: sync`);
  }
  const syncConfig =
    syncText === '' ? undefined : resolve(env.GITHUB_WORKSPACE?.trim() || process.cwd(), syncText);
  const stateText = reader.text('state-file');
  // Relative to the workspace, as every path a step is given (the runner starts steps there).
  const stateFile =
    stateText === '' ? undefined : resolve(env.GITHUB_WORKSPACE?.trim() || process.cwd(), stateText);

  const ownerText = reader.text('owner') || env.GITHUB_REPOSITORY_OWNER?.trim() || '';
  let owner: string | undefined;
  if (ownerText === '') {
    if (names.length > 0)
      reader.problem(
        'owner',
        'is empty and GITHUB_REPOSITORY_OWNER is not set: name the user or organisation',
      );
  } else if (!OWNER.test(ownerText)) {
    reader.problem('owner', `"${ownerText}" is not a GitHub user or organisation name`);
  } else {
    owner = ownerText.toLowerCase();
  }
  if (names.length === 0 && gateInputs === undefined && mode !== 'sync') {
    reader.problem(
      'packages',
      'is empty: name the packages to clean up (or give gate-image to run the gate only)',
    );
  }
  if (validate && names.length === 0) reader.problem('validate', 'needs packages to validate');
  if (token === '') {
    reader.problem(
      'token',
      'is empty: pass github.token (the default; the job needs permissions: packages: write) or a classic PAT with read:packages and delete:packages',
    );
  }

  if (reader.problems.length > 0 || policy === undefined) {
    return { ok: false, problems: reader.problems };
  }
  return {
    ok: true,
    inputs: {
      mode,
      budget,
      stateFile,
      owner,
      packages: names,
      token,
      policy,
      dryRun,
      ...definedProps({ minAge: age }),
      validate,
      gate: gateInputs,
      apiUrl: resolvedApiUrl,
      registry: resolvedRegistry,
      ...definedProps({ syncConfig }),
    },
  };
}

/**
 * A problem as one line: `input "keep-n-tagged": must be …`.
 * @public
 */
export function formatProblem(problem: InputProblem): string {
  return `input "${problem.input}": ${problem.message}`;
}
