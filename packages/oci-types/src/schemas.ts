import * as z from 'zod';
import { isDigest } from './digest.js';
import { lazySchema } from './lazy-schema.js';

/*
 * zod schemas for the documents this toolkit reads: OCI image-spec v1.1 and Docker image formats,
 * the distribution-spec error body, and GitHub Packages REST API objects. Objects are loose
 * (unknown fields are kept, as the specs require implementations to ignore them); the exact bytes
 * of a manifest are kept separately by @ghcr/manifest, never re-serialised from these.
 */

/** A digest string (image-spec grammar; sha256/sha512 encoded parts checked). @public */
export const digestSchema = lazySchema(() =>
  z.string().refine(isDigest, {
    message: 'must be a digest such as sha256:<64 lowercase hex characters>',
  }),
);

/** String-to-string annotations. @public */
export const annotationsSchema = lazySchema(() => z.record(z.string(), z.string()));

/** An image platform (image-spec image-index "platform"). @public */
export const platformSchema = lazySchema(() =>
  z.looseObject({
    architecture: z.string().min(1),
    os: z.string().min(1),
    'os.version': z.string().optional(),
    'os.features': z.array(z.string()).optional(),
    variant: z.string().optional(),
    features: z.array(z.string()).optional(),
  }),
);
/** @public */
export type Platform = z.infer<typeof platformSchema>;

/** A content descriptor (image-spec "descriptor.md"). @public */
export const descriptorSchema = lazySchema(() =>
  z.looseObject({
    mediaType: z.string().min(1),
    digest: digestSchema,
    size: z.number().int().nonnegative(),
    urls: z.array(z.string()).optional(),
    annotations: annotationsSchema.optional(),
    data: z.string().optional(),
    artifactType: z.string().optional(),
    platform: platformSchema.optional(),
  }),
);
/** @public */
export type Descriptor = z.infer<typeof descriptorSchema>;

/** OCI image manifest (image-spec v1.1 "manifest.md"). @public */
export const ociImageManifestSchema = lazySchema(() =>
  z.looseObject({
    schemaVersion: z.literal(2),
    mediaType: z.literal('application/vnd.oci.image.manifest.v1+json').optional(),
    artifactType: z.string().optional(),
    config: descriptorSchema,
    layers: z.array(descriptorSchema),
    subject: descriptorSchema.optional(),
    annotations: annotationsSchema.optional(),
  }),
);
/** @public */
export type OciImageManifest = z.infer<typeof ociImageManifestSchema>;

/** OCI image index (image-spec v1.1 "image-index.md"). @public */
export const ociImageIndexSchema = lazySchema(() =>
  z.looseObject({
    schemaVersion: z.literal(2),
    mediaType: z.literal('application/vnd.oci.image.index.v1+json').optional(),
    artifactType: z.string().optional(),
    manifests: z.array(descriptorSchema),
    subject: descriptorSchema.optional(),
    annotations: annotationsSchema.optional(),
  }),
);
/** @public */
export type OciImageIndex = z.infer<typeof ociImageIndexSchema>;

/** Docker image manifest v2 schema 2. @public */
export const dockerManifestSchema = lazySchema(() =>
  z.looseObject({
    schemaVersion: z.literal(2),
    mediaType: z.literal('application/vnd.docker.distribution.manifest.v2+json'),
    config: descriptorSchema,
    layers: z.array(descriptorSchema),
  }),
);
/** @public */
export type DockerManifest = z.infer<typeof dockerManifestSchema>;

/** Docker manifest list (multi-platform). @public */
export const dockerManifestListSchema = lazySchema(() =>
  z.looseObject({
    schemaVersion: z.literal(2),
    mediaType: z.literal('application/vnd.docker.distribution.manifest.list.v2+json'),
    manifests: z.array(descriptorSchema.extend({ platform: platformSchema })),
  }),
);
/** @public */
export type DockerManifestList = z.infer<typeof dockerManifestListSchema>;

/** One history entry of an image config. @public */
export const historySchema = lazySchema(() =>
  z.looseObject({
    created: z.string().optional(),
    created_by: z.string().optional(),
    author: z.string().optional(),
    comment: z.string().optional(),
    empty_layer: z.boolean().optional(),
  }),
);

/** The execution parameters of an image config (`config` field). @public */
export const containerConfigSchema = lazySchema(() =>
  z.looseObject({
    User: z.string().optional(),
    ExposedPorts: z.record(z.string(), z.unknown()).optional(),
    Env: z.array(z.string()).nullish(),
    Entrypoint: z.array(z.string()).nullish(),
    Cmd: z.array(z.string()).nullish(),
    Volumes: z.record(z.string(), z.unknown()).nullish(),
    WorkingDir: z.string().optional(),
    Labels: z.record(z.string(), z.string()).nullish(),
    StopSignal: z.string().optional(),
  }),
);

/** An image config, OCI (image-spec "config.md") or Docker: they share these fields. @public */
export const imageConfigSchema = lazySchema(() =>
  z.looseObject({
    created: z.string().optional(),
    author: z.string().optional(),
    architecture: z.string(),
    os: z.string(),
    'os.version': z.string().optional(),
    'os.features': z.array(z.string()).optional(),
    variant: z.string().optional(),
    config: containerConfigSchema.optional(),
    rootfs: z.looseObject({ type: z.string(), diff_ids: z.array(digestSchema) }),
    history: z.array(historySchema).optional(),
  }),
);
/** @public */
export type ImageConfig = z.infer<typeof imageConfigSchema>;

/** The distribution-spec error body: `{"errors":[{code,message,detail}]}`. @public */
export const distributionErrorBodySchema = lazySchema(() =>
  z.object({
    errors: z.array(
      z.looseObject({
        code: z.string(),
        message: z.string().optional(),
        detail: z.unknown().optional(),
      }),
    ),
  }),
);
/** @public */
export type DistributionErrorBody = z.infer<typeof distributionErrorBodySchema>;

/** A GitHub REST API error body. @public */
export const githubErrorBodySchema = lazySchema(() =>
  z.looseObject({
    message: z.string(),
    documentation_url: z.string().optional(),
    status: z.string().optional(),
  }),
);

/** The owner of a GitHub package. @public */
export const packageOwnerSchema = lazySchema(() =>
  z.looseObject({
    login: z.string(),
    id: z.number().int(),
    type: z.enum(['User', 'Organization']).or(z.string()),
  }),
);

/** Package visibility. @public */
export const packageVisibilitySchema = lazySchema(() => z.enum(['public', 'private', 'internal']));
/** @public */
export type PackageVisibility = z.infer<typeof packageVisibilitySchema>;

/** A GitHub package (Packages REST API). @public */
export const githubPackageSchema = lazySchema(() =>
  z.looseObject({
    id: z.number().int(),
    name: z.string(),
    package_type: z.string(),
    url: z.string(),
    html_url: z.string(),
    version_count: z.number().int().nonnegative(),
    visibility: packageVisibilitySchema.or(z.string()),
    owner: packageOwnerSchema.optional(),
    repository: z.looseObject({ full_name: z.string() }).nullish(),
    created_at: z.string(),
    updated_at: z.string(),
  }),
);
/** @public */
export type GithubPackage = z.infer<typeof githubPackageSchema>;

/** A version of a GitHub package. For containers, `name` is the manifest digest. @public */
export const packageVersionSchema = lazySchema(() =>
  z.looseObject({
    id: z.number().int(),
    name: z.string(),
    url: z.string(),
    package_html_url: z.string(),
    html_url: z.string().optional(),
    license: z.string().optional(),
    description: z.string().optional(),
    created_at: z.string(),
    updated_at: z.string(),
    deleted_at: z.string().nullish(),
    metadata: z
      .looseObject({
        package_type: z.string(),
        container: z.looseObject({ tags: z.array(z.string()) }).optional(),
        docker: z.looseObject({ tag: z.array(z.string()).optional() }).optional(),
      })
      .optional(),
  }),
);
/** @public */
export type PackageVersion = z.infer<typeof packageVersionSchema>;

/**
 * Vulnerability severities, ordered. Compare with {@link compareSeverity} or
 * {@link severityRank}; `unknown` ranks lowest.
 * @public
 */
export const SEVERITIES = ['unknown', 'low', 'medium', 'high', 'critical'] as const;
/** @public */
export const severitySchema = lazySchema(() => z.enum(SEVERITIES));
/** @public */
export type Severity = z.infer<typeof severitySchema>;

/** The rank of a severity: unknown 0 … critical 4. @public */
export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

/** Orders severities: negative when `a` is less severe than `b`. @public */
export function compareSeverity(a: Severity, b: Severity): number {
  return severityRank(a) - severityRank(b);
}

/**
 * Maps a scanner's severity word (Trivy `CRITICAL`, SARIF `error`/`warning`/`note`, CVSS
 * `moderate`, …) to a {@link Severity}. Unrecognised words map to `unknown`.
 * @public
 */
export function normalizeSeverity(value: string | undefined): Severity {
  switch ((value ?? '').trim().toLowerCase()) {
    case 'critical':
      return 'critical';
    case 'high':
    case 'important':
    case 'error':
      return 'high';
    case 'medium':
    case 'moderate':
    case 'warning':
      return 'medium';
    case 'low':
    case 'negligible':
    case 'minor':
    case 'note':
      return 'low';
    default:
      return 'unknown';
  }
}

/** One finding, normalised from any report format. @public */
export const vulnerabilitySchema = lazySchema(() =>
  z.object({
    /** CVE, GHSA or scanner id. */
    id: z.string(),
    severity: severitySchema,
    /** The affected package name. */
    package: z.string().optional(),
    installedVersion: z.string().optional(),
    fixedVersion: z.string().optional(),
    title: z.string().optional(),
    /** Where the finding came from: `cosign-vuln`, `sarif`, `cyclonedx`, `code-scanning`. */
    source: z.string(),
    /** Digest of the report (attestation manifest or blob) it was read from. */
    reportDigest: z.string().optional(),
  }),
);
/** @public */
export type Vulnerability = z.infer<typeof vulnerabilitySchema>;
