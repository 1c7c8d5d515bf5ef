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

/**
 * The zod schema of {@link SimulationOptions}; parsed once by `createSimulation()`.
 * @public
 */
export const simulationOptionsSchema = z.object({
  /** `'ghcr'` (GHCR's deviations) or `'distribution'` (spec-conformant). If omitted, `'ghcr'`. */
  profile: z.enum(['ghcr', 'distribution']).default('ghcr'),
  /** Registry origin the handlers answer on. If omitted, `https://ghcr.io`. */
  registryUrl: originSchema.default('https://ghcr.io'),
  /** The ghcr profile's blob redirect host. If omitted, `https://pkg-containers.githubusercontent.com`. */
  blobUrl: originSchema.default('https://pkg-containers.githubusercontent.com'),
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
export type ResolvedSimulationOptions = Omit<z.output<typeof simulationOptionsSchema>, 'clock'> & {
  readonly clock: Clock;
};

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
  const { clock, ...rest } = parsed.data;
  return { ...rest, clock: clock ?? createManualClock() };
}
