import { parsePlatform } from '@ghcr/manifest';
import { definedProps, InvalidInputError, lazySchema, parseReference } from '@ghcr/oci-types';
import semver from 'semver';
import { isMap, LineCounter, parseDocument } from 'yaml';
import * as z from 'zod';

/**
 * Which tags of a source repository a sync pair takes. A tag is taken when it matches any of
 * `list`, `glob`, `regex` or `semver` (all tags when none is given) and no `deny` glob; then
 * `newest` keeps the N newest of those.
 * @public
 */
export interface SyncTagSelection {
  /** Exact tags. */
  readonly list?: readonly string[];
  /** Shell-style globs (`3.*`, `*-alpine`): `*` any run of characters, `?` one. */
  readonly glob?: readonly string[];
  /** Regular expressions, anchored (`^…$` is implied). */
  readonly regex?: readonly string[];
  /** A semver range (`>=1.2 <2`, `^3`); `v1.2.3` tags count as `1.2.3`. Tags that are not semver are skipped (noted). */
  readonly semver?: string;
  /** Take prerelease versions (`2.0.0-rc.1`) in the semver range. If omitted, false. */
  readonly prerelease?: boolean;
  /** Globs of tags never taken. */
  readonly deny?: readonly string[];
  /** Keep only the newest N tags: by semver order (default), or by the image's creation time. */
  readonly newest?: { readonly count: number; readonly by: 'semver' | 'created' };
}

/**
 * What to do when a source's pull quota reaches the floor.
 * @public
 */
export interface SyncRateLimitPolicy {
  /** Stop pulling when the source reports this many pulls left (or fewer). If omitted, 10. */
  readonly floor: number;
  /** `stop`: end the run as incomplete (exit 3), resumable; `wait`: wait for the quota's window, then go on. If omitted, `stop`. */
  readonly onLimit: 'stop' | 'wait';
  /** The longest single wait, in seconds, with `wait`. If omitted, 21600 (6 hours). */
  readonly maxWaitSeconds: number;
}

/**
 * One pair of a sync config, with the defaults applied.
 * @public
 */
export interface SyncPair {
  /** `registry/repository` (every selected tag) or `registry/repository:tag` (one image). */
  readonly source: string;
  /** `registry/repository`, or `registry/repository:tag` for a single-image source. */
  readonly target: string;
  readonly tags: SyncTagSelection;
  /** Copy only this platform of an index (`linux/amd64`); if omitted, the whole index. */
  readonly platform?: string;
  /** Copy each copied image's referrers (signatures, SBOMs, attestations). */
  readonly referrers: boolean;
  /** Also sync the `sha256-<hex>[.sig|.att|.sbom]` tags of the synced digests (cosign and the referrers fallback). */
  readonly digestTags: boolean;
  /** The 1-based line of the pair in the config file, when it came from one. */
  readonly line?: number;
}

/**
 * A validated sync config.
 * @public
 */
export interface SyncConfig {
  readonly pairs: readonly SyncPair[];
  readonly rateLimit: SyncRateLimitPolicy;
  /** Tags handled at once, per registry (`docker.io: 2`). If omitted for a registry, 4. */
  readonly concurrency: Readonly<Record<string, number>>;
}

const CREDENTIAL_KEYS = /^(cred|credentials|password|passwd|token|username|user|auth|secret)s?$/i;

const tagName = lazySchema(() =>
  z
    .string()
    .regex(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/, 'is not a valid tag ([A-Za-z0-9_][A-Za-z0-9._-]{0,127})'),
);
const stringOrList = lazySchema(() => z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]));

const tagsSchema = lazySchema(() =>
  z.strictObject({
    list: z.array(tagName).min(1).optional(),
    glob: stringOrList.optional(),
    regex: stringOrList
      .refine(
        (value) => (Array.isArray(value) ? value : [value]).every(isRegex),
        'is not a valid regular expression',
      )
      .optional(),
    semver: z
      .string()
      .refine((range) => semver.validRange(range) !== null, 'is not a semver range (e.g. ">=1.2 <2", "^3")')
      .optional(),
    prerelease: z.boolean().optional(),
    deny: stringOrList.optional(),
    newest: z
      .union([
        z.number().int().positive(),
        z.strictObject({ count: z.number().int().positive(), by: z.enum(['semver', 'created']).optional() }),
      ])
      .optional(),
  }),
);

const platformSchema = lazySchema(() =>
  z.string().refine((value) => {
    try {
      parsePlatform(value);
      return true;
    } catch {
      return false;
    }
  }, 'is not a platform (os/arch[/variant], e.g. linux/arm64)'),
);

const options = {
  referrers: z.boolean().optional(),
  digestTags: z.boolean().optional(),
  platform: platformSchema.optional(),
};

const pairSchema = lazySchema(() =>
  z.strictObject({
    source: z.string().min(1),
    target: z.string().min(1),
    tags: z.union([tagsSchema, z.array(tagName).min(1)]).optional(),
    ...options,
  }),
);

const configSchema = lazySchema(() =>
  z.strictObject({
    version: z.literal(1).optional(),
    defaults: z
      .strictObject({
        ...options,
        rateLimit: z
          .strictObject({
            floor: z.number().int().nonnegative().optional(),
            onLimit: z.enum(['stop', 'wait']).optional(),
            maxWaitSeconds: z.number().int().positive().optional(),
          })
          .optional(),
      })
      .optional(),
    concurrency: z.record(z.string(), z.number().int().positive().max(64)).optional(),
    sync: z.array(pairSchema).min(1, 'lists no pairs: give at least one { source, target }'),
  }),
);

type RawConfig = z.infer<typeof configSchema>;

function isRegex(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

/**
 * The error of a sync config that does not validate: it names the file, the line and the field.
 * Code `GHCR_SYNC_CONFIG`.
 * @public
 */
export class SyncConfigError extends InvalidInputError {
  static override readonly errorName: string = 'SyncConfigError';
  /** The dotted path of the field (`sync.1.tags.semver`), when one is to blame. */
  declare readonly field?: string;
  /** The 1-based line, when known. */
  declare readonly line?: number;
  constructor(
    message: string,
    options: { readonly field?: string; readonly line?: number; readonly cause?: unknown },
  ) {
    super(message, {
      code: 'GHCR_SYNC_CONFIG',
      ...definedProps({ cause: options.cause }),
    });
    if (options.field !== undefined) this.field = options.field;
    if (options.line !== undefined) this.line = options.line;
  }
}

/**
 * Parses and validates a sync config (YAML or JSON text).
 * @param source names the text in errors (a file path). If omitted, `sync config`.
 * @throws SyncConfigError naming the line and the field that is wrong.
 * @public
 */
export function parseSyncConfig(text: string, source = 'sync config'): SyncConfig {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false });
  const firstError = document.errors[0];
  if (firstError !== undefined) {
    const line = lineCounter.linePos(firstError.pos[0]).line;
    throw new SyncConfigError(`${source}:${line}: not valid YAML: ${firstError.message.split('\n')[0]}`, {
      line,
      cause: firstError,
    });
  }
  const lineOf = (path: readonly PropertyKey[]): number | undefined => {
    for (let length = path.length; length >= 0; length -= 1) {
      const node: unknown = document.getIn(path.slice(0, length) as (string | number)[], true);
      const range = (node as { range?: readonly number[] } | undefined)?.range;
      if (range !== undefined && typeof range[0] === 'number') return lineCounter.linePos(range[0]).line;
    }
    return undefined;
  };
  const fail = (path: readonly PropertyKey[], message: string): never => {
    const field = path.map(String).join('.');
    const line = lineOf(path);
    throw new SyncConfigError(
      `${source}${line === undefined ? '' : `:${line}`}: ${field === '' ? 'the config' : field} ${message}`,
      { ...(field === '' ? {} : { field }), ...definedProps({ line }) },
    );
  };
  const value: unknown = document.toJS();
  if (!isMap(document.contents) || value === null || typeof value !== 'object') {
    fail([], 'must be a mapping with a `sync:` list of { source, target } pairs');
  }
  // Credentials never live in the file: say so before zod calls the key merely unknown.
  const pairs = (value as { sync?: unknown }).sync;
  if (Array.isArray(pairs)) {
    pairs.forEach((pair, index) => {
      if (pair === null || typeof pair !== 'object') return;
      for (const key of Object.keys(pair)) {
        if (CREDENTIAL_KEYS.test(key)) {
          fail(
            ['sync', index, key],
            'is a credential: credentials are never written in a sync config; they come from the credential chain, per registry (`ghcr login`, DOCKER_AUTH_CONFIG, docker config.json, GHCR_TOKEN, --src-creds/--dest-creds)',
          );
        }
      }
    });
  }
  const parsed = configSchema.safeParse(value);
  if (!parsed.success) {
    const issue = deepest(parsed.error.issues[0]);
    if (issue === undefined) fail([], 'is not valid');
    const path = issue?.path ?? [];
    const keys = issue?.code === 'unrecognized_keys' ? ` (${issue.keys.join(', ')})` : '';
    fail(path, `${issueText(issue?.message ?? 'is not valid', value, path)}${keys}`);
  }
  const raw = parsed.data as RawConfig;
  const result = build(raw, (path, message) => fail(path, message));
  return {
    ...result,
    pairs: result.pairs.map((pair, index) => {
      const line = lineOf(['sync', index]);
      return line === undefined ? pair : { ...pair, line };
    }),
  };
}

/** A union's failure is told by its branch that got furthest (`tags.0`, not `tags`). */
function deepest(issue: z.core.$ZodIssue | undefined): z.core.$ZodIssue | undefined {
  if (issue?.code !== 'invalid_union' || issue.errors.length === 0) return issue;
  let best: z.core.$ZodIssue | undefined;
  for (const branch of issue.errors) {
    const first = deepest(branch[0]);
    if (first !== undefined && (best === undefined || first.path.length > best.path.length)) best = first;
  }
  return best === undefined ? issue : { ...best, path: [...issue.path, ...best.path] };
}

function issueText(message: string, root: unknown, path: readonly PropertyKey[]): string {
  let node: unknown = root;
  for (const key of path) node = (node as Record<PropertyKey, unknown> | undefined)?.[key];
  // YAML reads 3.10 as the number 3.1: a tag that looks like a number must be quoted.
  if (typeof node === 'number') return `is the number ${node}; quote it ("${node}") if it is a tag`;
  return /^(Invalid|Expected|Unrecognized|Too)/.test(message) ? `is invalid: ${message}` : message;
}

function asList(value: string | readonly string[] | undefined): readonly string[] | undefined {
  return value === undefined ? undefined : typeof value === 'string' ? [value] : value;
}

function build(raw: RawConfig, fail: (path: readonly PropertyKey[], message: string) => never): SyncConfig {
  const defaults = raw.defaults ?? {};
  const pairs = raw.sync.map((pair, index): SyncPair => {
    let source: ReturnType<typeof parseReference>;
    let target: ReturnType<typeof parseReference>;
    try {
      source = parseReference(pair.source);
    } catch (error) {
      return fail(['sync', index, 'source'], `is not an image reference: ${(error as Error).message}`);
    }
    try {
      target = parseReference(pair.target);
    } catch (error) {
      return fail(['sync', index, 'target'], `is not an image reference: ${(error as Error).message}`);
    }
    if (source.digest !== undefined) fail(['sync', index, 'source'], 'names a digest: sync follows tags');
    if (target.digest !== undefined) fail(['sync', index, 'target'], 'names a digest: give a repository');
    const single = source.tag !== undefined && /:[^/]+$/.test(pair.source);
    if (!single && target.tag !== undefined && /:[^/]+$/.test(pair.target)) {
      fail(
        ['sync', index, 'target'],
        'names a tag, but the source is a whole repository: give the target repository',
      );
    }
    if (single && pair.tags !== undefined) {
      fail(
        ['sync', index, 'tags'],
        'is for a repository source; this source names one image (drop its tag or this field)',
      );
    }
    const tags: SyncTagSelection = Array.isArray(pair.tags)
      ? { list: pair.tags }
      : pair.tags === undefined
        ? single
          ? { list: [source.tag as string] }
          : {}
        : selection(pair.tags);
    const platform = pair.platform ?? defaults.platform;
    return {
      source: pair.source,
      target: pair.target,
      tags,
      referrers: pair.referrers ?? defaults.referrers ?? false,
      digestTags: pair.digestTags ?? defaults.digestTags ?? false,
      ...definedProps({ platform }),
    };
  });
  return {
    pairs,
    rateLimit: {
      floor: defaults.rateLimit?.floor ?? 10,
      onLimit: defaults.rateLimit?.onLimit ?? 'stop',
      maxWaitSeconds: defaults.rateLimit?.maxWaitSeconds ?? 21_600,
    },
    concurrency: raw.concurrency ?? {},
  };
}

function selection(tags: z.infer<typeof tagsSchema>): SyncTagSelection {
  const glob = asList(tags.glob);
  const regex = asList(tags.regex);
  const deny = asList(tags.deny);
  const newest =
    tags.newest === undefined
      ? undefined
      : typeof tags.newest === 'number'
        ? { count: tags.newest, by: 'semver' as const }
        : { count: tags.newest.count, by: tags.newest.by ?? ('semver' as const) };
  return {
    ...definedProps({
      list: tags.list,
      glob,
      regex,
      semver: tags.semver,
      prerelease: tags.prerelease,
      deny,
      newest,
    }),
  };
}
