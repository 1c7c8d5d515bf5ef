import type { CredentialProvider } from '@ghcr/auth';
import {
  type Clock,
  ConfigError,
  canonicalRegistry,
  definedProps,
  lazySchema,
  PARSE_ONCE,
  registryApiHost,
  systemClock,
} from '@ghcr/oci-types';
import type { Authorizer, Transport, TransportOptions } from '@ghcr/transport';
import type { Dispatcher } from 'undici';
import * as z from 'zod';
import type { VersionsOptions } from './github/versions/versions-options.js';
import type { AttestationVerifier } from './github/vulnerabilities/verifier.js';

const MiB = 1024 * 1024;
const isObject = (value: unknown): boolean => typeof value === 'object' && value !== null;
const isFunction = (value: unknown): boolean => typeof value === 'function';

/**
 * ghcr.io refuses a request body over 4 MiB with a declared length (416), so chunks stay at or
 * under it (ghcr-facts §2, "Chunked upload").
 * @public
 */
export const GHCR_MAX_CHUNK_BYTES = 4 * MiB;
/**
 * The default chunk size for registries other than ghcr.io: 64 MiB. Used only for blobs over
 * {@link DEFAULT_MONOLITHIC_BYTES}; it bounds what a failed request costs (a chunk) without paying
 * a request per few MiB.
 * @public
 */
export const DEFAULT_CHUNK_BYTES = 64 * MiB;
/**
 * Off ghcr.io, blobs up to this size (1 GiB) go up in one streamed PUT by default, as docker,
 * skopeo and crane send every blob in one request: docker-registry spends CPU per PATCH and the
 * chunks serialise (a 256 MiB push took 2.31 s in 16 MiB chunks, 1.84 s in one PUT; see
 * docs/benchmarks.md), and distribution cannot resume inside a broken PATCH anyway. A failed PUT
 * starts over from byte 0 in a fresh session.
 * @public
 */
export const DEFAULT_MONOLITHIC_BYTES = 1024 * MiB;

/**
 * Options passed through to the transport the client builds (everything but the dispatcher,
 * authorizer and clock, which have their own client options).
 * @public
 */
export type ClientTransportOptions = Omit<TransportOptions, 'dispatcher' | 'authorizer' | 'clock'>;

/**
 * How the client speaks to one registry other than its default, in the `registries` option.
 * @public
 */
export interface RegistrySettingsOverride {
  /** Speak plain HTTP to this registry. If omitted, true for `localhost`, `127.0.0.1` and `[::1]`, false otherwise. */
  readonly plainHttp?: boolean | undefined;
  /**
   * Which behaviour to expect. `ghcr` for a GitHub Enterprise Server registry (`containers.<host>`):
   * 4 MiB chunks, untag through the Packages API. If omitted, `ghcr` for ghcr.io and `distribution`
   * for everything else.
   */
  readonly flavor?: 'ghcr' | 'distribution' | undefined;
}

const registrySettingsOverrideSchema = lazySchema(
  () =>
    z
      .object({
        plainHttp: z.boolean().optional(),
        flavor: z.enum(['ghcr', 'distribution']).optional(),
      })
      .strict() satisfies z.ZodType<unknown, RegistrySettingsOverride>,
);

/**
 * Options of {@link createGhcrClient}. Every one is optional; they are validated once by
 * {@link ghcrClientOptionsSchema}, and an unknown key or a bad value is a `ConfigError` naming it.
 * @public
 */
export interface GhcrClientOptions {
  /**
   * The registry: `host[:port]` (`ghcr.io`, `localhost:5000`) or a base URL whose scheme decides
   * plain HTTP (`http://127.0.0.1:5000`). If omitted, `ghcr.io`.
   */
  readonly registry?: string | undefined;
  /**
   * Speak plain HTTP instead of HTTPS to the default registry. If omitted, true for `localhost`,
   * `127.0.0.1` and `[::1]` (and for an `http://` registry URL), false otherwise.
   */
  readonly plainHttp?: boolean | undefined;
  /**
   * Settings of other registries the client reaches through references that name them
   * (`docker.io/library/alpine:3`) or through `forRegistry(host)`, keyed by `host[:port]`:
   * `{ 'localhost:5001': { plainHttp: true }, 'containers.ghe.example.com': { flavor: 'ghcr' } }`.
   * The key `*` applies to every registry without an entry of its own. If omitted, every registry
   * gets the defaults described on each field.
   */
  readonly registries?: Readonly<Record<string, RegistrySettingsOverride>> | undefined;
  /**
   * Which registry's behaviour to expect. `ghcr`: 4 MiB chunk cap, no manifest DELETE (untag puts a
   * placeholder; deletes go through the Packages API). `distribution`: a generic OCI registry. If
   * omitted, `auto`: `ghcr` for ghcr.io, `distribution` for anything else.
   */
  readonly flavor?: 'auto' | 'ghcr' | 'distribution' | undefined;
  /** A ready transport (shared limiter, token cache, metrics). If omitted, one is built from the options below. */
  readonly transport?: Transport | undefined;
  /** The undici dispatcher the built transport sends every request through (a simulation, a proxy Agent). Ignored with `transport`. If omitted, the transport's own connections. */
  readonly dispatcher?: Dispatcher | undefined;
  /**
   * Where credentials come from (`@ghcr/auth`: `defaultCredentialChain()`, `staticCredentials(…)`,
   * `environmentCredentials()`). The built transport gets a token manager over them: scoped,
   * cached tokens; ghcr.io's `Bearer base64(PAT)`. Ignored with `transport` or `authorizer`. If
   * omitted, anonymous tokens (enough to pull public images).
   */
  readonly credentials?: CredentialProvider | undefined;
  /**
   * Credentials for the GitHub REST API (`client.versions`, code-scanning alerts). If omitted,
   * what `credentials` has for `ghcr.io` (a GHCR token is a GitHub token).
   */
  readonly apiCredentials?: CredentialProvider | undefined;
  /**
   * Whether `client.referrers` asks the registry's referrers API: `auto` asks, and after a 404
   * remembers it is absent and uses the `sha256-<hex>` tag schema; `fallback` uses the tag schema
   * only. If omitted, `auto`.
   */
  readonly referrersApi?: 'auto' | 'fallback' | undefined;
  /**
   * Verifies vulnerability attestations for `client.vulnerabilities` (e.g. with `sigstore`). If
   * omitted, reports are read but stated as unverified.
   */
  readonly verifyAttestation?: AttestationVerifier | undefined;
  /**
   * GitHub Packages API settings for `client.versions` (validated by `versionsOptionsSchema`). If
   * omitted, `GITHUB_API_URL` or `https://api.github.com`, API version `2022-11-28`, owner type
   * detected per owner.
   */
  readonly versions?: VersionsOptions | undefined;
  /** Supplies `Authorization` headers to the built transport instead of `credentials` (see `@ghcr/transport`'s `Authorizer`). Ignored with `transport`. If omitted, built from `credentials`. */
  readonly authorizer?: Authorizer | undefined;
  /** Further options for the built transport (retry, rate limit, metrics, tracer, timeouts). Ignored with `transport`. If omitted, the transport's defaults. */
  readonly transportOptions?: ClientTransportOptions | undefined;
  /**
   * Bytes per PATCH of a chunked upload. Raised to the registry's `OCI-Chunk-Min-Length` when that
   * is larger. If omitted, 4 MiB for ghcr.io (its request-body cap) and 64 MiB elsewhere
   * ({@link DEFAULT_CHUNK_BYTES}).
   */
  readonly chunkSize?: number | undefined;
  /**
   * Blobs up to this size go up in one PUT (POST + PUT); larger ones in chunks. If omitted, the
   * chunk size on ghcr.io (4 MiB: larger bodies are refused there) and 1 GiB elsewhere
   * ({@link DEFAULT_MONOLITHIC_BYTES}).
   */
  readonly monolithicThreshold?: number | undefined;
  /** Parallel requests of one operation (tagging many tags; layers later). If omitted, 4. */
  readonly concurrency?: number | undefined;
  /** Largest manifest read or written, in bytes. If omitted, 4 MiB (what registries accept). */
  readonly maxManifestBytes?: number | undefined;
  /**
   * Consecutive failed attempts a blob transfer survives (a dropped download resumed with `Range`, a
   * failed PATCH resumed from the session's offset) before it gives up. Progress resets the count.
   * If omitted, 5.
   */
  readonly maxResumeAttempts?: number | undefined;
  /** Delay before the second consecutive resume attempt, doubled each time after (the first is immediate). If omitted, 1 s. */
  readonly resumeDelayMs?: number | undefined;
  /** Progress events are emitted at most once per this many bytes of a blob (and at its end). If omitted, 1 MiB. */
  readonly progressIntervalBytes?: number | undefined;
  /** Time source for backoff. If omitted, the system clock (the built transport gets the same clock). */
  readonly clock?: Clock | undefined;
  /** Makes the unique id of untag placeholders. If omitted, `crypto.randomUUID`. */
  readonly randomId?: (() => string) | undefined;
}

/**
 * The zod schema of {@link GhcrClientOptions} (each option is documented there), parsed once by
 * {@link createGhcrClient}. Strict: an unknown key is a `ConfigError` naming it.
 * @public
 */
export const ghcrClientOptionsSchema = lazySchema(
  () =>
    z
      .object({
        registry: z
          .string()
          .min(1)
          .regex(/^(?:https?:\/\/)?[^/\s]+\/?$/, 'must be host[:port] or http(s)://host[:port]')
          .default('ghcr.io'),
        plainHttp: z.boolean().optional(),
        registries: z.record(z.string().min(1), registrySettingsOverrideSchema).optional(),
        flavor: z.enum(['auto', 'ghcr', 'distribution']).default('auto'),
        transport: z
          .custom<Transport>(
            (value) => isObject(value) && isFunction((value as Transport).send),
            'must be a Transport (an object with send(request))',
          )
          .optional(),
        dispatcher: z.custom<Dispatcher>(isObject, 'must be an undici Dispatcher').optional(),
        credentials: z
          .custom<CredentialProvider>(
            (value) => isObject(value) && isFunction((value as CredentialProvider).resolve),
            'must be a CredentialProvider (an object with resolve(registry))',
          )
          .optional(),
        apiCredentials: z
          .custom<CredentialProvider>(
            (value) => isObject(value) && isFunction((value as CredentialProvider).resolve),
            'must be a CredentialProvider (an object with resolve(registry))',
          )
          .optional(),
        referrersApi: z.enum(['auto', 'fallback']).default('auto'),
        verifyAttestation: z.custom<AttestationVerifier>(isFunction, 'must be a function').optional(),
        versions: z.custom<VersionsOptions>(isObject, 'must be an object of versions options').optional(),
        authorizer: z.custom<Authorizer>(isObject, 'must be an Authorizer').optional(),
        transportOptions: z
          .custom<ClientTransportOptions>(isObject, 'must be an object of transport options')
          .optional(),
        chunkSize: z
          .number()
          .int()
          .positive()
          .max(1024 * MiB)
          .optional(),
        monolithicThreshold: z.number().int().min(0).optional(),
        concurrency: z.number().int().positive().max(64).default(4),
        maxManifestBytes: z
          .number()
          .int()
          .positive()
          .default(4 * MiB),
        maxResumeAttempts: z.number().int().min(0).max(100).default(5),
        resumeDelayMs: z.number().int().min(0).default(1000),
        progressIntervalBytes: z.number().int().positive().default(MiB),
        clock: z
          .custom<Clock>(
            (value) =>
              isObject(value) && isFunction((value as Clock).now) && isFunction((value as Clock).sleep),
            'must be a Clock (now(), sleep(ms, signal))',
          )
          .default(systemClock),
        randomId: z.custom<() => string>(isFunction, 'must be a function returning a string').optional(),
      })
      .strict() satisfies z.ZodType<unknown, GhcrClientOptions>,
);

/** @public */
export type ResolvedGhcrClientOptions = z.output<typeof ghcrClientOptionsSchema>;

/**
 * Everything the capabilities need, derived once from the options.
 * @internal
 */
export interface ClientSettings {
  readonly options: ResolvedGhcrClientOptions;
  /** The registry's canonical name: `ghcr.io`, `127.0.0.1:5000`, `docker.io`. */
  readonly host: string;
  /** Where its API is: `https://ghcr.io`, `http://127.0.0.1:5000`, `https://registry-1.docker.io`. */
  readonly baseUrl: string;
  readonly flavor: 'ghcr' | 'distribution';
  readonly chunkSize: number;
  readonly monolithicThreshold: number;
}

const LOOPBACK = /^(?:localhost|127\.0\.0\.1|\[::1\])(?::\d+)?$/i;

/**
 * Parses the options and derives the settings.
 * @throws ConfigError naming the offending field.
 * @internal
 */
export function resolveClientSettings(input: GhcrClientOptions): ClientSettings {
  const parsed = ghcrClientOptionsSchema.safeParse(input, PARSE_ONCE);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (issue?.code === 'unrecognized_keys') {
      const known = Object.keys(ghcrClientOptionsSchema.shape);
      const where = issue.path.length === 0 ? 'client option' : `client option "${issue.path.join('.')}" key`;
      throw new ConfigError(
        `unknown ${where}${issue.keys.length === 1 ? '' : 's'} ${issue.keys.map((key) => `"${key}"`).join(', ')}: ${
          issue.path.length === 0 ? `the options are ${known.join(', ')}` : 'check the spelling'
        }`,
        {
          field: issue.path.length === 0 ? (issue.keys[0] ?? '') : issue.path.join('.'),
          cause: parsed.error,
        },
      );
    }
    const field = issue?.path.join('.') ?? '';
    throw new ConfigError(
      `invalid client option${field === '' ? '' : ` "${field}"`}: ${issue?.message ?? 'invalid'}`,
      { field, cause: parsed.error },
    );
  }
  return deriveSettings(parsed.data, parsed.data.registry, {
    ...definedProps({ plainHttp: parsed.data.plainHttp }),
    ...(parsed.data.flavor === 'auto' ? {} : { flavor: parsed.data.flavor }),
  });
}

/**
 * The settings of another registry the same client reaches (`docker.io`, `quay.io`,
 * `localhost:5001`): its `registries` entry, else the defaults. The chunk size of a ghcr-flavoured
 * registry is capped at its 4 MiB request-body limit.
 * @throws ConfigError when `registry` is not `host[:port]` (or an http(s) base URL).
 * @internal
 */
export function registrySettings(options: ResolvedGhcrClientOptions, registry: string): ClientSettings {
  if (!/^(?:https?:\/\/)?[^/\s]+\/?$/i.test(registry)) {
    throw new ConfigError(
      `invalid registry "${registry}": give host[:port], e.g. docker.io or localhost:5000`,
      {
        field: 'registry',
      },
    );
  }
  const host = canonicalRegistry(registry.replace(/^https?:\/\//i, '').replace(/\/$/, ''));
  const entries = Object.entries(options.registries ?? {});
  const override =
    entries.find(([key]) => key !== '*' && canonicalRegistry(key) === host)?.[1] ?? options.registries?.['*'];
  return deriveSettings(options, registry, override ?? {}, 'cap');
}

function deriveSettings(
  options: ResolvedGhcrClientOptions,
  registry: string,
  override: RegistrySettingsOverride,
  oversizedGhcrChunk: 'refuse' | 'cap' = 'refuse',
): ClientSettings {
  const schemeMatch = /^(https?):\/\//i.exec(registry);
  const host = canonicalRegistry(registry.replace(/^https?:\/\//i, '').replace(/\/$/, ''));
  const scheme = schemeMatch?.[1]?.toLowerCase();
  if (scheme === 'https' && override.plainHttp === true) {
    throw new ConfigError(
      `invalid client option "plainHttp": the registry is given as an https:// URL; drop the scheme or plainHttp`,
      { field: 'plainHttp' },
    );
  }
  const plainHttp =
    override.plainHttp ?? (scheme === 'http' || (scheme === undefined && LOOPBACK.test(host)));
  const flavor = override.flavor ?? (host === 'ghcr.io' ? 'ghcr' : 'distribution');
  let chunkSize = options.chunkSize ?? (flavor === 'ghcr' ? GHCR_MAX_CHUNK_BYTES : DEFAULT_CHUNK_BYTES);
  if (flavor === 'ghcr' && chunkSize > GHCR_MAX_CHUNK_BYTES && oversizedGhcrChunk === 'cap') {
    chunkSize = GHCR_MAX_CHUNK_BYTES;
  }
  if (flavor === 'ghcr' && chunkSize > GHCR_MAX_CHUNK_BYTES) {
    throw new ConfigError(
      `invalid client option "chunkSize": ${chunkSize} bytes is over ghcr.io's 4 MiB request-body cap (it answers 416); use at most ${GHCR_MAX_CHUNK_BYTES}`,
      { field: 'chunkSize' },
    );
  }
  return {
    options,
    host,
    baseUrl: `${plainHttp ? 'http' : 'https'}://${registryApiHost(host)}`,
    flavor,
    chunkSize,
    monolithicThreshold:
      options.monolithicThreshold ??
      (flavor === 'ghcr' ? chunkSize : Math.max(chunkSize, DEFAULT_MONOLITHIC_BYTES)),
  };
}
