import { ConfigError, GhcrError, isDigest, lazySchema, unknownKeysError } from '@ghcr/oci-types';
import * as z from 'zod';
import { parseDuration } from './duration.js';
import { compileTagPattern, regexToPattern } from './patterns.js';

const patternSchema = lazySchema(() =>
  z
    .union([z.string().min(1, 'a tag pattern is not empty'), z.instanceof(RegExp)])
    .transform((value) => (typeof value === 'string' ? value : regexToPattern(value)))
    .superRefine((value, context) => {
      try {
        compileTagPattern(value);
      } catch (error) {
        context.addIssue({
          code: 'custom',
          message: GhcrError.isInstance(error) ? error.message : String(error),
        });
      }
    }),
);

/**
 * A duration: a string (`30d`, `12h`, `1w`, `1d12h`) or milliseconds, parsed to milliseconds.
 * @internal
 */
export const durationSchema = lazySchema(() =>
  z.union([z.string(), z.number()]).transform((value, context) => {
    try {
      return parseDuration(value);
    } catch (error) {
      context.addIssue({
        code: 'custom',
        message: GhcrError.isInstance(error) ? error.message : String(error),
      });
      return z.NEVER;
    }
  }),
);

/**
 * A retention policy: which package versions of one container package may be deleted. Validated
 * once by {@link parseRetentionPolicy} (a failure is a `ConfigError` naming the field).
 *
 * How the rules combine (the planner, {@link planRetention}, applies them in this order):
 *
 * 1. **Roots and dependents.** A version is a *root* when it carries a tag of its own (one that is
 *    not an attachment tag `sha256-<hex>`, `sha256-<hex>.sig|.att|.sbom`) or when nothing present
 *    in the package refers to it. Every other version (a platform manifest of an index, a BuildKit
 *    attestation, a signature, an SBOM, an index at a referrers fallback tag) is a *dependent*:
 *    the rules never select it; it lives and dies with what it hangs from (step 4).
 * 2. **Selection of roots.**
 *    - A *tagged* root is selected when `untaggedOnly` is false, a rule about tagged images is
 *      given (`deleteTags` or `keepNewestTagged`: `olderThan` alone never deletes a tagged image),
 *      every one of its tags matches `deleteTags` (when `deleteTags` is given: an image with one
 *      tag outside the patterns is not deleted, so no tag is ever lost by accident), and it is
 *      older than `olderThan` (when given).
 *    - An *untagged* root is selected when it is older than `olderThan` (when given). Untagged
 *      roots are what cleanup is for: with no `olderThan` and no `keepNewestUntagged`, all of them
 *      are selected.
 * 3. **Protection** (wins over selection): any tag matching `keepTags`; a digest in `keepDigests`;
 *    the `keepNewestTagged` newest tagged roots among those step 2 could select, ignoring age
 *    (so `olderThan` can only ever delete the oldest ones), counting images, not tags; likewise
 *    the `keepNewestUntagged` newest untagged roots (untag placeholders are not counted). Newest
 *    means by `created_at` (ties: the higher version id).
 * 4. **Closure.** Everything reachable from a kept version is kept: the manifests of a kept index
 *    (platform images, attestation manifests), the referrers of a kept manifest (OCI `subject`,
 *    the index at its `sha256-<hex>` fallback tag and the entries of that index, cosign
 *    `.sig/.att/.sbom` tags), and so on down. A manifest shared by a kept and a deleted index is
 *    kept. A dependent whose every parent is deleted is deleted after them.
 * 5. **Fail closed.** If any manifest could not be read, or the tag list could not be read, or a
 *    version is missing from the graph, nothing is deleted and every decision says why.
 * 6. **Last versions.** If the plan would delete every version, the newest root (tagged first) is
 *    kept; if it would delete every tagged version, the newest tagged one is kept (GitHub refuses
 *    both deletes).
 * A policy as written (durations as strings or milliseconds, patterns as strings or `RegExp`).
 * @public
 */
export interface RetentionPolicy {
  /**
   * Keep the newest N tagged images (roots with a tag of their own, see above) among those the
   * tag rules could delete, by `created_at`, whatever their age. An image with five tags counts
   * once. Versions kept by `keepTags`/`keepDigests` are not counted. If omitted, no tagged image
   * is kept by count (tagged images are then deleted only when `deleteTags` selects them).
   */
  readonly keepNewestTagged?: number | undefined;
  /**
   * Keep the newest N untagged images (untagged roots: not children or referrers of something
   * present), by `created_at`, whatever their age. If omitted, none is kept by count.
   */
  readonly keepNewestUntagged?: number | undefined;
  /**
   * Tag patterns whose versions are always kept (with everything reachable from them). A
   * pattern `/…/flags` is a regular expression searched in the tag; anything else is a glob over
   * the whole tag (`*`, `?`). A `RegExp` is accepted and stored as `/source/flags`. If omitted, none.
   */
  readonly keepTags?: readonly (string | RegExp)[] | undefined;
  /**
   * Tag patterns (same syntax) that make a tagged image deletable: an image is selected only when
   * every one of its tags matches (`['*']`: any tagged image). If omitted (or empty), tagged images
   * are deleted only beyond `keepNewestTagged`, when that is given.
   */
  readonly deleteTags?: readonly (string | RegExp)[] | undefined;
  /**
   * Select only versions older than this: a duration string (`30d`, `12h`, `1w`, `1d12h`) or
   * milliseconds. Age is `now` minus the version's `timestamp`. A filter: on its own it selects
   * untagged images only (add `deleteTags: ['*']` for tagged ones). If omitted, age does not matter.
   */
  readonly olderThan?: string | number | undefined;
  /** Which timestamp `olderThan` reads. If omitted, `created_at` (it does not move when tags do). */
  readonly timestamp?: 'created_at' | 'updated_at' | undefined;
  /** Never select tagged images: only untagged roots can be deleted. If omitted, false. */
  readonly untaggedOnly?: boolean | undefined;
  /** Digests (`sha256:…`) whose versions are always kept, with everything reachable from them. If omitted, none. */
  readonly keepDigests?: readonly string[] | undefined;
}

/**
 * The zod schema of {@link RetentionPolicy} (how the rules combine, and each rule, are documented
 * there). Strict: an unknown key is a `ConfigError` naming it.
 * @public
 */
export const retentionPolicySchema = lazySchema(
  () =>
    z
      .object({
        keepNewestTagged: z.number().int().min(0).optional(),
        keepNewestUntagged: z.number().int().min(0).optional(),
        keepTags: z.array(patternSchema).default([]),
        deleteTags: z.array(patternSchema).default([]),
        olderThan: durationSchema.optional(),
        timestamp: z.enum(['created_at', 'updated_at']).default('created_at'),
        untaggedOnly: z.boolean().default(false),
        keepDigests: z
          .array(z.string().refine(isDigest, 'must be a digest such as sha256:<64 hex>'))
          .default([]),
      })
      .strict() satisfies z.ZodType<unknown, RetentionPolicy>,
);

/** A policy after validation: durations in ms, patterns as strings; JSON-serialisable. @public */
export type ResolvedRetentionPolicy = z.output<typeof retentionPolicySchema>;

/**
 * Validates a policy and fills in its defaults.
 * @throws ConfigError naming the offending field (`keepTags.1`, `olderThan`).
 * @public
 */
export function parseRetentionPolicy(policy: RetentionPolicy): ResolvedRetentionPolicy {
  const parsed = retentionPolicySchema.safeParse(policy);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (issue?.code === 'unrecognized_keys') {
      throw unknownKeysError('retention policy field', retentionPolicySchema, issue, parsed.error);
    }
    const field = issue?.path.join('.') ?? '';
    throw new ConfigError(
      `invalid retention policy${field === '' ? '' : ` field "${field}"`}: ${issue?.message ?? 'invalid'}`,
      { field, cause: parsed.error },
    );
  }
  return parsed.data;
}
