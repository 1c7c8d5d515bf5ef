import { ConfigError, lazySchema, PARSE_ONCE, unknownKeysError } from '@ghcr/oci-types';
import * as z from 'zod';

/**
 * Whose packages a request addresses, which decides the Packages API path: `org` →
 * `/orgs/{org}/packages`, `user` → `/users/{username}/packages`, `authenticated-user` →
 * `/user/packages` (the token's own user, whatever owner the repository path names).
 * @public
 */
export type OwnerType = 'org' | 'user' | 'authenticated-user';

/** The REST API version pinned by default (ghcr-facts §3 "Versioning"). @public */
export const DEFAULT_GITHUB_API_VERSION = '2022-11-28';

/** GitHub's public REST API. @public */
export const DEFAULT_GITHUB_API_URL = 'https://api.github.com';

/**
 * The zod schema of {@link VersionsOptions} (documented there). Strict: an unknown key is refused.
 * @public
 */
export const versionsOptionsSchema = lazySchema(
  () =>
    z
      .object({
        apiUrl: z
          .url({ protocol: /^https?$/, error: 'must be an http(s) URL such as https://api.github.com' })
          .optional(),
        apiVersion: z
          .string()
          .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date such as 2022-11-28')
          .default(DEFAULT_GITHUB_API_VERSION),
        ownerType: z.enum(['org', 'user', 'authenticated-user']).optional(),
        placeholderLookupAttempts: z.number().int().min(1).max(10).default(3),
        placeholderLookupDelayMs: z.number().int().min(0).max(60_000).default(1000),
      })
      .strict() satisfies z.ZodType<unknown, VersionsOptions>,
);

/**
 * Options of {@link createVersions}, validated once. A bad one is a `ConfigError` naming the field;
 * an unknown one is refused by name.
 * @public
 */
export interface VersionsOptions {
  /**
   * Base URL of the GitHub REST API (`https://ghe.example.com/api/v3` on GitHub Enterprise Server).
   * If omitted, `process.env.GITHUB_API_URL` (set by GitHub Actions), else `https://api.github.com`.
   */
  readonly apiUrl?: string | undefined;
  /**
   * Sent as `X-GitHub-Api-Version`. If omitted, `2022-11-28` (GitHub's default, pinned until the
   * breaking changes of later versions have been checked for packages).
   */
  readonly apiVersion?: string | undefined;
  /**
   * The owner type of every owner this client addresses. If omitted, detected per owner with
   * `GET /users/{owner}` (`type`: `Organization` → `org`, `User` → `user`) and cached for the
   * client's lifetime; a call may still pass its own `ownerType`.
   */
  readonly ownerType?: OwnerType | undefined;
  /**
   * `untagAndDelete`: how many times the placeholder's package version is looked up before giving
   * up (GitHub may list a freshly pushed manifest with a short delay). If omitted, 3.
   */
  readonly placeholderLookupAttempts?: number | undefined;
  /** Delay before the second lookup, doubled after each further miss. If omitted, 1000 ms. */
  readonly placeholderLookupDelayMs?: number | undefined;
}
/** @public */
export type ResolvedVersionsOptions = z.output<typeof versionsOptionsSchema> & { readonly apiUrl: string };

/**
 * Parses the options and fills in `apiUrl` (from `GITHUB_API_URL` or the public API), without a
 * trailing slash.
 * @throws ConfigError naming the offending field.
 * @internal
 */
export function resolveVersionsOptions(
  input: VersionsOptions,
  environment: Readonly<Record<string, string | undefined>> = process.env,
): ResolvedVersionsOptions {
  const fromEnvironment = environment.GITHUB_API_URL;
  const withUrl =
    input.apiUrl === undefined && fromEnvironment !== undefined && fromEnvironment !== ''
      ? { ...input, apiUrl: fromEnvironment }
      : input;
  const parsed = versionsOptionsSchema.safeParse(withUrl, PARSE_ONCE);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (issue?.code === 'unrecognized_keys') {
      throw unknownKeysError('versions option', versionsOptionsSchema, issue, parsed.error);
    }
    const field = issue?.path.join('.') ?? '';
    const source =
      field === 'apiUrl' && input.apiUrl === undefined
        ? ' (taken from the GITHUB_API_URL environment variable)'
        : '';
    throw new ConfigError(
      `invalid versions option${field === '' ? '' : ` "${field}"`}${source}: ${issue?.message ?? 'invalid'}`,
      { field, cause: parsed.error },
    );
  }
  return { ...parsed.data, apiUrl: (parsed.data.apiUrl ?? DEFAULT_GITHUB_API_URL).replace(/\/+$/, '') };
}
