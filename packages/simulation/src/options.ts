import { type Clock, ConfigError, createManualClock, PARSE_ONCE, unknownKeysError } from '@ghcr/oci-types';
import * as z from 'zod';

const MIB = 1024 * 1024;

const clockSchema = z.custom<Clock>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { now?: unknown }).now === 'function' &&
    typeof (value as { sleep?: unknown }).sleep === 'function',
  {
    message: 'must be a Clock ({ now(), sleep(ms, signal) }), e.g. createManualClock() from @ghcr/oci-types',
  },
);

const originSchema = z
  .string()
  .url()
  .transform((value) => value.replace(/\/+$/, ''));

/**
 * The dockerhub profile's options (`dockerhub` of {@link SimulationOptions}).
 * @public
 */
export interface SimulationDockerHubOptions {
  /**
   * The web host people write in references, whose `/v2/…` answers a redirect to a web page.
   * If omitted, `https://docker.io`.
   */
  readonly webUrl?: string | undefined;
  /** The web page it redirects to (HTML). If omitted, `https://www.docker.com`. */
  readonly homeUrl?: string | undefined;
  /** Manifest GETs allowed per window to an anonymous client (per source address). If omitted, 100. */
  readonly anonymousPullLimit?: number | undefined;
  /** Manifest GETs allowed per window to a signed-in account. If omitted, 200. */
  readonly authenticatedPullLimit?: number | undefined;
  /** The quota window, seconds (the `w=` of the headers). If omitted, 21600 (6 hours). */
  readonly windowSeconds?: number | undefined;
  /** Accounts with no pull limit (no rate-limit headers, as Hub does for paid plans). If omitted, none. */
  readonly unlimitedUsers?: readonly string[] | undefined;
  /**
   * The source address of an anonymous request that carries no `X-Forwarded-For` (requests
   * through the in-process dispatcher; the loopback server passes the peer's address). If
   * omitted, `192.0.2.1`.
   */
  readonly anonymousSource?: string | undefined;
}

/** The dockerhub profile's options (see {@link simulationOptionsSchema}). */
const dockerHubOptionsSchema = z
  .object({
    webUrl: originSchema.default('https://docker.io'),
    homeUrl: originSchema.default('https://www.docker.com'),
    anonymousPullLimit: z.number().int().positive().default(100),
    authenticatedPullLimit: z.number().int().positive().default(200),
    windowSeconds: z.number().int().positive().default(21_600),
    unlimitedUsers: z.array(z.string().min(1)).default([]),
    anonymousSource: z.string().min(1).default('192.0.2.1'),
  })
  .strict()
  .prefault({}) satisfies z.ZodType<unknown, SimulationDockerHubOptions | undefined>;

/**
 * The `tokenSigning` option of {@link SimulationOptions}: sign registry tokens as RS256 JWTs a real
 * registry accepts.
 * @public
 */
export interface SimulationTokenSigningOptions {
  /** PEM-encoded RSA private key. Required. */
  readonly privateKey: string;
  /** The `iss` claim (the registry's `auth.token.issuer`). If omitted, `ghcr-simulation`. */
  readonly issuer?: string | undefined;
}

/**
 * Options of `createSimulation()`: every one is optional. Validated once by
 * {@link simulationOptionsSchema}; an unknown key or a bad value is a `ConfigError` naming it.
 * @public
 */
export interface SimulationOptions {
  /**
   * `'ghcr'` (GHCR's deviations), `'distribution'` (spec-conformant) or `'dockerhub'` (Docker
   * Hub: token realm on another host, pull quota, blob GETs redirected to a CDN). If omitted, `'ghcr'`.
   */
  readonly profile?: 'ghcr' | 'distribution' | 'dockerhub' | undefined;
  /**
   * Registry origin the handlers answer on. If omitted, `https://ghcr.io`
   * (`https://registry-1.docker.io` in the dockerhub profile).
   */
  readonly registryUrl?: string | undefined;
  /**
   * Where blob GETs redirect (ghcr and dockerhub profiles). If omitted,
   * `https://pkg-containers.githubusercontent.com` (`https://production.cloudflare.docker.com` in
   * the dockerhub profile).
   */
  readonly blobUrl?: string | undefined;
  /**
   * The token endpoint (the challenge's `realm`), a full URL. If omitted, `<registryUrl>/token`
   * (`https://auth.docker.io/token` in the dockerhub profile).
   */
  readonly tokenUrl?: string | undefined;
  /**
   * The challenge's `service`. If omitted, the registry's host (`registry.docker.io` in the
   * dockerhub profile).
   */
  readonly tokenService?: string | undefined;
  /**
   * The dockerhub profile's web hosts and pull quota (ignored by the other profiles, whose resolved
   * options have no `dockerhub`). If omitted, Docker Hub's.
   */
  readonly dockerhub?: SimulationDockerHubOptions | undefined;
  /** GitHub REST base URL, may carry a path (`http://127.0.0.1:5000/api`). If omitted, `https://api.github.com`. */
  readonly apiUrl?: string | undefined;
  /** The clock every timestamp, expiry and delay reads. If omitted, a fresh `createManualClock()`. */
  readonly clock?: Clock | undefined;
  /** Where blobs and metadata live. If omitted, memory. */
  readonly store?:
    | { readonly kind: 'memory' }
    | { readonly kind: 'disk'; readonly directory: string }
    | undefined;
  /** ghcr profile: registry requests allowed per minute before 429. If omitted, unlimited. */
  readonly registryRequestsPerMinute?: number | undefined;
  /**
   * ghcr profile: blob upload POSTs (`/v2/<name>/blobs/uploads/`) allowed per minute before 429
   * (`TOOMANYREQUESTS: retry-after: …, allowed: 2000/minute`, as reported of ghcr.io). If
   * omitted, unlimited.
   */
  readonly uploadStartsPerMinute?: number | undefined;
  /** GitHub REST primary budget per token per hour. If omitted, `{ limit: 5000 }`. */
  readonly apiRateLimit?: { readonly limit: number } | undefined;
  /** GitHub REST secondary budget in points per minute (DELETE = 5). If omitted, 900. */
  readonly apiWritePointsPerMinute?: number | undefined;
  /**
   * Issue registry tokens as RS256 JWTs in the distribution token format (`iss`, `aud` = the
   * requested `service`, `exp`, `nbf`, `iat`, `jti`, `access`), signed with this PEM private key,
   * with the libtrust key id of its public key as `kid`, so a real registry (CNCF distribution with
   * `auth.token` and the key's certificate as `rootcertbundle`) accepts them. If omitted, tokens are
   * opaque HMAC-signed strings that only the simulation understands.
   */
  readonly tokenSigning?: SimulationTokenSigningOptions | undefined;
  /** Lifetime of registry tokens from `/token`, seconds on the simulation clock. If omitted, 300. */
  readonly tokenTtlSeconds?: number | undefined;
  /** Largest manifest accepted on PUT (413 above). If omitted, 4 MiB. */
  readonly maxManifestBytes?: number | undefined;
  /** ghcr profile: largest PATCH body (416 above). If omitted, 4 MiB. */
  readonly maxUploadChunkBytes?: number | undefined;
  /** Whether public repositories can be pulled without credentials. If omitted, true. */
  readonly anonymousPull?: boolean | undefined;
  /** Visibility of packages created by a first push. If omitted, `'private'` (as on ghcr.io). */
  readonly defaultVisibility?: 'public' | 'private' | undefined;
  /** Lifetime of the ghcr profile's signed blob URLs, seconds. If omitted, 600. */
  readonly signedUrlTtlSeconds?: number | undefined;
  /** Registry tag-list page size when the client sends no `n`. If omitted, 100 (as on ghcr.io). */
  readonly defaultTagPageSize?: number | undefined;
}

/**
 * The zod schema of {@link SimulationOptions} (each option is documented there); parsed once by
 * `createSimulation()`. Strict: an unknown key, at any level, is refused with its name.
 * @public
 */
export const simulationOptionsSchema = z
  .object({
    profile: z.enum(['ghcr', 'distribution', 'dockerhub']).default('ghcr'),
    registryUrl: originSchema.optional(),
    blobUrl: originSchema.optional(),
    tokenUrl: z.string().url().optional(),
    tokenService: z.string().min(1).optional(),
    dockerhub: dockerHubOptionsSchema,
    apiUrl: originSchema.default('https://api.github.com'),
    clock: clockSchema.optional(),
    store: z
      .discriminatedUnion('kind', [
        z.object({ kind: z.literal('memory') }).strict(),
        z.object({ kind: z.literal('disk'), directory: z.string().min(1) }).strict(),
      ])
      .default({ kind: 'memory' }),
    registryRequestsPerMinute: z.number().int().positive().optional(),
    uploadStartsPerMinute: z.number().int().positive().optional(),
    apiRateLimit: z.object({ limit: z.number().int().positive() }).strict().default({ limit: 5000 }),
    apiWritePointsPerMinute: z.number().int().positive().default(900),
    tokenSigning: z
      .object({
        privateKey: z.string().min(1),
        issuer: z.string().min(1).default('ghcr-simulation'),
      })
      .strict()
      .optional(),
    tokenTtlSeconds: z.number().positive().default(300),
    maxManifestBytes: z
      .number()
      .int()
      .positive()
      .default(4 * MIB),
    maxUploadChunkBytes: z
      .number()
      .int()
      .positive()
      .default(4 * MIB),
    anonymousPull: z.boolean().default(true),
    defaultVisibility: z.enum(['public', 'private']).default('private'),
    signedUrlTtlSeconds: z.number().positive().default(600),
    defaultTagPageSize: z.number().int().positive().default(100),
  })
  .strict() satisfies z.ZodType<unknown, SimulationOptions>;

/**
 * Options after defaults, with the clock resolved.
 * @public
 */
export type ResolvedSimulationOptions = Omit<
  z.output<typeof simulationOptionsSchema>,
  'clock' | 'registryUrl' | 'blobUrl' | 'tokenUrl' | 'tokenService' | 'dockerhub'
> & {
  /** The dockerhub profile's hosts and quota (absent in the other profiles: they serve no such host). */
  readonly dockerhub?: ResolvedDockerHubOptions;
  readonly clock: Clock;
  /** The registry origin (the profile's default when not given). */
  readonly registryUrl: string;
  /** The blob redirect host (the profile's default when not given). */
  readonly blobUrl: string;
  /** The token endpoint URL (the profile's default when not given). */
  readonly tokenUrl: string;
  /** The challenge's `service` (the profile's default when not given). */
  readonly tokenService: string;
};

/**
 * The dockerhub profile's options after defaults.
 * @public
 */
export type ResolvedDockerHubOptions = z.output<typeof dockerHubOptionsSchema>;

/** The dockerhub options of `options`, or Docker Hub's defaults. @internal */
export function dockerHubOptionsOf(
  options: Pick<ResolvedSimulationOptions, 'dockerhub'>,
): ResolvedDockerHubOptions {
  return options.dockerhub ?? dockerHubOptionsSchema.parse(undefined);
}

const PROFILE_ORIGINS = {
  ghcr: { registryUrl: 'https://ghcr.io', blobUrl: 'https://pkg-containers.githubusercontent.com' },
  distribution: { registryUrl: 'https://ghcr.io', blobUrl: 'https://pkg-containers.githubusercontent.com' },
  dockerhub: {
    registryUrl: 'https://registry-1.docker.io',
    blobUrl: 'https://production.cloudflare.docker.com',
    tokenUrl: 'https://auth.docker.io/token',
    tokenService: 'registry.docker.io',
  },
} as const;

/**
 * Parses simulation options, turning a failure into a {@link ConfigError} naming the field.
 * @internal
 */
export function resolveSimulationOptions(options: SimulationOptions = {}): ResolvedSimulationOptions {
  const parsed = simulationOptionsSchema.safeParse(options, PARSE_ONCE);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (issue?.code === 'unrecognized_keys') {
      throw unknownKeysError('simulation option', simulationOptionsSchema, issue, parsed.error);
    }
    const field = issue === undefined ? 'options' : issue.path.join('.') || 'options';
    throw new ConfigError(
      `invalid simulation option "${field}": ${issue?.message ?? 'invalid value'}; fix the options passed to createSimulation()`,
      { cause: parsed.error, field },
    );
  }
  const { clock, registryUrl, blobUrl, tokenUrl, tokenService, dockerhub, ...rest } = parsed.data;
  const defaults: { registryUrl: string; blobUrl: string; tokenUrl?: string; tokenService?: string } =
    PROFILE_ORIGINS[rest.profile];
  const registry = registryUrl ?? defaults.registryUrl;
  return {
    ...rest,
    registryUrl: registry,
    blobUrl: blobUrl ?? defaults.blobUrl,
    tokenUrl: tokenUrl ?? defaults.tokenUrl ?? `${registry}/token`,
    tokenService: tokenService ?? defaults.tokenService ?? new URL(registry).host,
    ...(rest.profile === 'dockerhub' ? { dockerhub } : {}),
    clock: clock ?? createManualClock(),
  };
}
