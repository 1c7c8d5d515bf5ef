import { type Clock, ConfigError, createManualClock } from '@ghcr/oci-types';
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

/** The dockerhub profile's options (see {@link simulationOptionsSchema}). */
const dockerHubOptionsSchema = z
  .object({
    /**
     * The web host people write in references, whose `/v2/…` answers a redirect to a web page.
     * If omitted, `https://docker.io`.
     */
    webUrl: originSchema.default('https://docker.io'),
    /** The web page it redirects to (HTML). If omitted, `https://www.docker.com`. */
    homeUrl: originSchema.default('https://www.docker.com'),
    /** Manifest GETs allowed per window to an anonymous client (per source address). If omitted, 100. */
    anonymousPullLimit: z.number().int().positive().default(100),
    /** Manifest GETs allowed per window to a signed-in account. If omitted, 200. */
    authenticatedPullLimit: z.number().int().positive().default(200),
    /** The quota window, seconds (the `w=` of the headers). If omitted, 21600 (6 hours). */
    windowSeconds: z.number().int().positive().default(21_600),
    /** Accounts with no pull limit (no rate-limit headers, as Hub does for paid plans). If omitted, none. */
    unlimitedUsers: z.array(z.string().min(1)).default([]),
    /**
     * The source address of an anonymous request that carries no `X-Forwarded-For` (requests
     * through the in-process dispatcher; the loopback server passes the peer's address). If
     * omitted, `192.0.2.1`.
     */
    anonymousSource: z.string().min(1).default('192.0.2.1'),
  })
  .prefault({});

/**
 * The zod schema of {@link SimulationOptions}; parsed once by `createSimulation()`.
 * @public
 */
export const simulationOptionsSchema = z.object({
  /**
   * `'ghcr'` (GHCR's deviations), `'distribution'` (spec-conformant) or `'dockerhub'` (Docker
   * Hub: token realm on another host, pull quota, blob GETs redirected to a CDN). If omitted, `'ghcr'`.
   */
  profile: z.enum(['ghcr', 'distribution', 'dockerhub']).default('ghcr'),
  /**
   * Registry origin the handlers answer on. If omitted, `https://ghcr.io`
   * (`https://registry-1.docker.io` in the dockerhub profile).
   */
  registryUrl: originSchema.optional(),
  /**
   * Where blob GETs redirect (ghcr and dockerhub profiles). If omitted,
   * `https://pkg-containers.githubusercontent.com` (`https://production.cloudflare.docker.com` in
   * the dockerhub profile).
   */
  blobUrl: originSchema.optional(),
  /**
   * The token endpoint (the challenge's `realm`), a full URL. If omitted, `<registryUrl>/token`
   * (`https://auth.docker.io/token` in the dockerhub profile).
   */
  tokenUrl: z.string().url().optional(),
  /**
   * The challenge's `service`. If omitted, the registry's host (`registry.docker.io` in the
   * dockerhub profile).
   */
  tokenService: z.string().min(1).optional(),
  /**
   * The dockerhub profile's web hosts and pull quota (ignored by the other profiles, whose resolved
   * options have no `dockerhub`). If omitted, Docker Hub's.
   */
  dockerhub: dockerHubOptionsSchema,
  /** GitHub REST base URL, may carry a path (`http://127.0.0.1:5000/api`). If omitted, `https://api.github.com`. */
  apiUrl: originSchema.default('https://api.github.com'),
  /** The clock every timestamp, expiry and delay reads. If omitted, a fresh `createManualClock()`. */
  clock: clockSchema.optional(),
  /** Where blobs and metadata live. If omitted, memory. */
  store: z
    .discriminatedUnion('kind', [
      z.object({ kind: z.literal('memory') }),
      z.object({ kind: z.literal('disk'), directory: z.string().min(1) }),
    ])
    .default({ kind: 'memory' }),
  /** ghcr profile: registry requests allowed per minute before 429. If omitted, unlimited. */
  registryRequestsPerMinute: z.number().int().positive().optional(),
  /**
   * ghcr profile: blob upload POSTs (`/v2/<name>/blobs/uploads/`) allowed per minute before 429
   * (`TOOMANYREQUESTS: retry-after: …, allowed: 2000/minute`, as reported of ghcr.io). If
   * omitted, unlimited.
   */
  uploadStartsPerMinute: z.number().int().positive().optional(),
  /** GitHub REST primary budget per token per hour. If omitted, `{ limit: 5000 }`. */
  apiRateLimit: z.object({ limit: z.number().int().positive() }).default({ limit: 5000 }),
  /** GitHub REST secondary budget in points per minute (DELETE = 5). If omitted, 900. */
  apiWritePointsPerMinute: z.number().int().positive().default(900),
  /**
   * Issue registry tokens as RS256 JWTs in the distribution token format (`iss`, `aud` = the
   * requested `service`, `exp`, `nbf`, `iat`, `jti`, `access`), signed with this PEM private key,
   * with the libtrust key id of its public key as `kid`, so a real registry (CNCF distribution with
   * `auth.token` and the key's certificate as `rootcertbundle`) accepts them. If omitted, tokens are
   * opaque HMAC-signed strings that only the simulation understands.
   */
  tokenSigning: z
    .object({
      /** PEM-encoded RSA private key. */
      privateKey: z.string().min(1),
      /** The `iss` claim (the registry's `auth.token.issuer`). If omitted, `ghcr-simulation`. */
      issuer: z.string().min(1).default('ghcr-simulation'),
    })
    .optional(),
  /** Lifetime of registry tokens from `/token`, seconds on the simulation clock. If omitted, 300. */
  tokenTtlSeconds: z.number().positive().default(300),
  /** Largest manifest accepted on PUT (413 above). If omitted, 4 MiB. */
  maxManifestBytes: z
    .number()
    .int()
    .positive()
    .default(4 * MIB),
  /** ghcr profile: largest PATCH body (416 above). If omitted, 4 MiB. */
  maxUploadChunkBytes: z
    .number()
    .int()
    .positive()
    .default(4 * MIB),
  /** Whether public repositories can be pulled without credentials. If omitted, true. */
  anonymousPull: z.boolean().default(true),
  /** Visibility of packages created by a first push. If omitted, `'private'` (as on ghcr.io). */
  defaultVisibility: z.enum(['public', 'private']).default('private'),
  /** Lifetime of the ghcr profile's signed blob URLs, seconds. If omitted, 600. */
  signedUrlTtlSeconds: z.number().positive().default(600),
  /** Registry tag-list page size when the client sends no `n`. If omitted, 100 (as on ghcr.io). */
  defaultTagPageSize: z.number().int().positive().default(100),
});

/**
 * Options of `createSimulation()` (every field optional; see {@link simulationOptionsSchema}).
 * @public
 */
export type SimulationOptions = z.input<typeof simulationOptionsSchema>;

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
  const parsed = simulationOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
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
