import { createPublicKey, type KeyObject } from 'node:crypto';
import { ConfigError, definedProps, lazySchema, unknownKeysError } from '@ghcr/oci-types';
import type { TrustMaterial } from '@sigstore/verify';
import * as z from 'zod';
import { loadTrustedRoot } from './trusted-root.js';

/**
 * The zod schema of {@link SignaturePolicy} (documented there). Strict: an unknown key is refused.
 * @public
 */
export const signaturePolicySchema = lazySchema(
  () =>
    z
      .object({
        key: z.string().min(1).optional(),
        certificateIdentity: z.string().min(1).optional(),
        certificateIdentityRegexp: z.string().min(1).optional(),
        certificateOidcIssuer: z.string().min(1).optional(),
        certificateOidcIssuerRegexp: z.string().min(1).optional(),
        repository: z
          .string()
          .regex(/^[^/\s]+\/[^/\s]+$/, { error: 'expected owner/name' })
          .optional(),
        owner: z
          .string()
          .regex(/^[^/\s]+$/, { error: 'expected an owner name, without slashes' })
          .optional(),
        workflow: z.string().min(1).optional(),
        predicateType: z.string().min(1).optional(),
        trustedRoot: z.unknown().optional(),
        tlogThreshold: z.int().min(0).optional(),
        ctlogThreshold: z.int().min(0).optional(),
        timestampThreshold: z.int().min(0).optional(),
      })
      .strict() satisfies z.ZodType<unknown, SignaturePolicy>,
);

/**
 * What a signature or attestation must satisfy to count as verified. Give either `key` (cosign
 * key-based signatures), or a keyless policy: `trustedRoot` with an identity
 * (`certificateIdentity`, `certificateIdentityRegexp`, `repository`, `owner` or `workflow`) and an
 * issuer (`certificateOidcIssuer` or `certificateOidcIssuerRegexp`). Regular expressions are
 * anchored (`^(?:…)$`): they match the whole value.
 * @public
 */
export interface SignaturePolicy {
  /** A PEM public key (ECDSA P-256/P-384, Ed25519 or RSA: `cosign.pub`). If omitted, keyless. */
  readonly key?: string | undefined;
  /** The certificate's subject alternative name, exactly (`https://github.com/o/r/.github/workflows/release.yml@refs/tags/v1`). If omitted, not checked by itself. */
  readonly certificateIdentity?: string | undefined;
  /** A regular expression the whole SAN must match. If omitted, not checked by itself. */
  readonly certificateIdentityRegexp?: string | undefined;
  /** The OIDC issuer, exactly (`https://token.actions.githubusercontent.com`). */
  readonly certificateOidcIssuer?: string | undefined;
  /** A regular expression the whole issuer must match. */
  readonly certificateOidcIssuerRegexp?: string | undefined;
  /** The source repository, `owner/name` (Fulcio's Source Repository URI, as `gh attestation verify --repo`). If omitted, any. */
  readonly repository?: string | undefined;
  /** The source repository owner (Fulcio's Source Repository Owner URI, as `gh attestation verify --owner`). If omitted, any. */
  readonly owner?: string | undefined;
  /**
   * The signing workflow: `owner/repo/.github/workflows/release.yml` (Fulcio's Build Signer URI
   * without its `@ref`, as `gh attestation verify --signer-workflow`). If omitted, any.
   */
  readonly workflow?: string | undefined;
  /** The in-toto predicate type attestations must have. If omitted, any (the gate reads only vulnerability predicates anyway). */
  readonly predicateType?: string | undefined;
  /** The parsed `trusted_root.json` (as `gh attestation trusted-root` writes it). Needed for keyless. */
  readonly trustedRoot?: unknown | undefined;
  /** Transparency-log entries required. If omitted, 1 when the trusted root has a log, else 0. */
  readonly tlogThreshold?: number | undefined;
  /** Certificate-transparency SCTs required. If omitted, 1 when the trusted root has a CT log, else 0. */
  readonly ctlogThreshold?: number | undefined;
  /** RFC 3161 timestamps required. If omitted, 1 when the trusted root has timestamp authorities and no log, else 0. */
  readonly timestampThreshold?: number | undefined;
}

/**
 * A string compared exactly, or a whole-value regular expression.
 * @public
 */
export interface Matcher {
  readonly describe: string;
  test(value: string | undefined): boolean;
}

/**
 * A policy, validated: the key, or the trust material and the identity matchers.
 * @public
 */
export interface ResolvedSignaturePolicy {
  readonly key?: KeyObject;
  readonly trust?: TrustMaterial;
  readonly identity?: Matcher;
  readonly issuer?: Matcher;
  readonly repository?: string;
  readonly owner?: string;
  readonly workflow?: string;
  readonly predicateType?: string;
  readonly thresholds: {
    readonly tlogThreshold: number;
    readonly ctlogThreshold: number;
    readonly timestampThreshold: number;
  };
}

function exact(value: string): Matcher {
  return { describe: JSON.stringify(value), test: (candidate) => candidate === value };
}

function anchored(pattern: string, field: string): Matcher {
  let regex: RegExp;
  try {
    regex = new RegExp(`^(?:${pattern})$`);
  } catch (error) {
    throw new ConfigError(
      `invalid signature policy "${field}": ${pattern} is not a regular expression (${error instanceof Error ? error.message : String(error)})`,
      { field, cause: error },
    );
  }
  return {
    describe: `/${regex.source}/`,
    test: (candidate) => candidate !== undefined && regex.test(candidate),
  };
}

/**
 * Validates a policy: a bad field, a bad key, a bad trusted root, or a keyless policy without an
 * identity, an issuer or a trusted root is a `ConfigError` naming the field.
 * @public
 */
export function resolveSignaturePolicy(policy: SignaturePolicy): ResolvedSignaturePolicy {
  const parsed = signaturePolicySchema.safeParse(policy);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (issue?.code === 'unrecognized_keys') {
      throw unknownKeysError('signature policy key', signaturePolicySchema, issue, parsed.error);
    }
    const field = (issue?.path ?? []).map(String).join('.');
    throw new ConfigError(`invalid signature policy "${field}": ${issue?.message ?? 'invalid'}`, {
      field,
      cause: parsed.error,
    });
  }
  const data = parsed.data;
  const common = {
    ...definedProps({ repository: data.repository, owner: data.owner }),
    ...(data.workflow === undefined
      ? {}
      : { workflow: data.workflow.replace(/^https:\/\/github\.com\//, '') }),
    ...definedProps({ predicateType: data.predicateType }),
  };
  if (data.key !== undefined) {
    let key: KeyObject;
    try {
      key = createPublicKey(data.key);
    } catch (error) {
      throw new ConfigError(
        'invalid signature policy "key": not a PEM public key (give cosign.pub: ECDSA, Ed25519 or RSA, "-----BEGIN PUBLIC KEY-----")',
        { field: 'key', cause: error },
      );
    }
    return { key, ...common, thresholds: { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 } };
  }
  const identity =
    data.certificateIdentity !== undefined
      ? exact(data.certificateIdentity)
      : data.certificateIdentityRegexp !== undefined
        ? anchored(data.certificateIdentityRegexp, 'certificateIdentityRegexp')
        : undefined;
  const issuer =
    data.certificateOidcIssuer !== undefined
      ? exact(data.certificateOidcIssuer)
      : data.certificateOidcIssuerRegexp !== undefined
        ? anchored(data.certificateOidcIssuerRegexp, 'certificateOidcIssuerRegexp')
        : undefined;
  if (
    identity === undefined &&
    data.repository === undefined &&
    data.owner === undefined &&
    data.workflow === undefined
  ) {
    throw new ConfigError(
      'invalid signature policy: give a key, or for keyless signatures an identity (certificateIdentity, certificateIdentityRegexp, repository, owner or workflow)',
      { field: 'certificateIdentity' },
    );
  }
  if (issuer === undefined) {
    throw new ConfigError(
      'invalid signature policy: keyless signatures need the OIDC issuer (certificateOidcIssuer, e.g. https://token.actions.githubusercontent.com, or certificateOidcIssuerRegexp)',
      { field: 'certificateOidcIssuer' },
    );
  }
  if (data.trustedRoot === undefined) {
    throw new ConfigError(
      'invalid signature policy: keyless signatures need a trusted root (trusted_root.json: `gh attestation trusted-root > trusted_root.json`); nothing is fetched',
      { field: 'trustedRoot' },
    );
  }
  const { trust, counts } = loadTrustedRoot(data.trustedRoot);
  return {
    trust,
    ...definedProps({ identity }),
    issuer,
    ...common,
    thresholds: {
      tlogThreshold: data.tlogThreshold ?? (counts.tlogs > 0 ? 1 : 0),
      ctlogThreshold: data.ctlogThreshold ?? (counts.ctlogs > 0 ? 1 : 0),
      timestampThreshold:
        data.timestampThreshold ?? (counts.timestampAuthorities > 0 && counts.tlogs === 0 ? 1 : 0),
    },
  };
}

/**
 * One line naming what a policy requires (for reasons and the CLI).
 * @internal
 */
export function describePolicy(policy: ResolvedSignaturePolicy): string {
  if (policy.key !== undefined) return 'the given public key';
  const parts: string[] = [];
  if (policy.identity !== undefined) parts.push(`identity ${policy.identity.describe}`);
  if (policy.issuer !== undefined) parts.push(`issuer ${policy.issuer.describe}`);
  if (policy.repository !== undefined) parts.push(`repository ${policy.repository}`);
  if (policy.owner !== undefined) parts.push(`owner ${policy.owner}`);
  if (policy.workflow !== undefined) parts.push(`workflow ${policy.workflow}`);
  return parts.join(', ');
}
