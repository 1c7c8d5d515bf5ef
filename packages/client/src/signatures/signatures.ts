import { buildImageManifest, cosignTagsFor, isIndex, type ParsedManifest } from '@ghcr/manifest';
import {
  type Descriptor,
  definedProps,
  digestOf,
  InvalidInputError,
  MediaType,
  NotFoundError,
  ProtocolError,
  parseReference,
  referenceTarget,
} from '@ghcr/oci-types';
import type { Referrers } from '../referrers/referrers.js';
import type { Blobs } from '../registry/blobs.js';
import { mapLimit } from '../registry/concurrency.js';
import type { ManifestLimits, RegistryEndpoint } from '../registry/dependencies.js';
import type { Manifests } from '../registry/manifests.js';
import type { PolicyInput } from './attestation-verifier.js';
import { CosignAnnotation } from './cosign-annotation.js';
import { certificateIdentity, keyIdentity, type SignerIdentity } from './identity.js';
import type { ResolvedSignaturePolicy } from './policy.js';
import {
  loadSigningKey,
  SIMPLE_SIGNING_MEDIA_TYPE,
  signatureConfig,
  signBytes,
  simpleSigningPayload,
} from './sign.js';
import type { SignatureVerification } from './verify.js';

/** The sigstore-js part, loaded when something is verified. */
type Engine = typeof import('./engine.js');

/** The predicate cosign v3 gives a signature written as a DSSE bundle. @public */
export const COSIGN_SIGN_PREDICATE_TYPE = 'https://sigstore.dev/cosign/sign/v1';

const DSSE_MEDIA_TYPE = 'application/vnd.dsse.envelope.v1+json';
const BUNDLE_MEDIA_PREFIX = 'application/vnd.dev.sigstore.bundle';
const MAX_SIGNATURE_BYTES = 4 * 1024 * 1024;

/**
 * One signature or attestation found on an image, and whether it verified.
 * @public
 */
export interface FoundSignature {
  /** `signature` (cosign `.sig`, a message-signature bundle, cosign v3's sign predicate) or `attestation`. */
  readonly kind: 'signature' | 'attestation';
  /** `cosign-signature` (a `.sig` simple-signing layer), `cosign-attestation` (a `.att` DSSE layer), or `sigstore-bundle`. */
  readonly format: 'cosign-signature' | 'cosign-attestation' | 'sigstore-bundle';
  /** The digest it was found attached to. */
  readonly subject: string;
  /** The referrer (or `.sig`/`.att`) manifest holding it. */
  readonly manifestDigest: string;
  /** The layer holding it. */
  readonly layerDigest: string;
  /** For attestations: the statement's predicate type. */
  readonly predicateType?: string;
  readonly verified: boolean;
  /** What was verified, or why not. */
  readonly reason: string;
  /** The signer: verified when `verified`, else as the certificate claims it (if it could be read). */
  readonly signer?: SignerIdentity;
}

/**
 * The signatures of an image, checked against a policy.
 * @public
 */
export interface VerifySignaturesResult {
  readonly reference: string;
  readonly digest: string;
  /** True when at least one signature or attestation verified under the policy. */
  readonly verified: boolean;
  /** One sentence: who signed, or why nothing verified. */
  readonly reason: string;
  /** Everything found, verified or not. */
  readonly signatures: readonly FoundSignature[];
}

/**
 * Options of {@link Signatures.verify}.
 * @public
 */
export interface VerifySignaturesOptions {
  /** What a signature must satisfy (a key, or a keyless identity with a trusted root). */
  readonly policy: PolicyInput;
  /** Only `signature`s, only `attestation`s. If omitted, both count. */
  readonly kind?: 'signature' | 'attestation' | undefined;
  readonly signal?: AbortSignal | undefined;
}

/**
 * Options of {@link Signatures.attestations}.
 * @public
 */
export interface ListAttestationsOptions {
  /** Verify each under this policy. If omitted, none is verified (signers are shown as claimed). */
  readonly policy?: PolicyInput | undefined;
  readonly signal?: AbortSignal | undefined;
}

/**
 * Options of {@link Signatures.sign}.
 * @public
 */
export interface SignImageOptions {
  /** The PEM private key (PKCS#8, or SEC1/PKCS#1; see `loadSigningKey`). */
  readonly key: string;
  /** Its password, when the PEM is encrypted. If omitted, none. */
  readonly password?: string | undefined;
  /** cosign's `-a key=value` annotations, in the payload's `optional`. If omitted, none. */
  readonly annotations?: Readonly<Record<string, string>> | undefined;
  readonly signal?: AbortSignal | undefined;
}

/**
 * What {@link Signatures.sign} wrote.
 * @public
 */
export interface SignImageResult {
  /** The signed digest. */
  readonly digest: string;
  /** The tag written: `sha256-<hex>.sig`. */
  readonly tag: string;
  /** The signature manifest's descriptor. */
  readonly manifest: Descriptor;
  /** The public key's fingerprint. */
  readonly signer: SignerIdentity;
}

/**
 * Signatures and attestations of images: verify them offline under a policy, list attestations,
 * and write cosign-compatible key-based signatures.
 * @public
 */
export interface Signatures {
  /**
   * Finds the signatures and attestations of an image (cosign's `sha256-<hex>.sig`/`.att` tags,
   * sigstore bundles as referrers or in the fallback index) and verifies each under the policy:
   * the signature, the signer and that the signed content names the image digest. Nothing is
   * fetched besides the registry (no TUF, no Rekor).
   */
  verify(reference: string, options: VerifySignaturesOptions): Promise<VerifySignaturesResult>;
  /** The attestations of an image, each with its predicate type and signer (verified under `policy` when given). */
  attestations(reference: string, options?: ListAttestationsOptions): Promise<VerifySignaturesResult>;
  /**
   * Signs an image with a key as `cosign sign --key` does (without a transparency-log upload): a
   * simple-signing layer with the signature annotation, added to the manifest at `sha256-<hex>.sig`
   * (signatures already there are kept).
   */
  sign(reference: string, options: SignImageOptions): Promise<SignImageResult>;
}

/**
 * What {@link createSignatures} needs.
 * @internal
 */
export interface SignaturesDependencies {
  readonly manifests: Manifests;
  readonly blobs: Blobs;
  /** Lists referrers (asked with `cosignTags: true`, so cosign's `.sig` and `.att` tags are found everywhere). */
  readonly referrers: Pick<Referrers, 'list'>;
}

interface Located {
  readonly repository: string;
  readonly target: string;
}

/** A signed thing found, before verification. */
interface Candidate {
  readonly format: FoundSignature['format'];
  readonly subject: string;
  readonly manifest: ParsedManifest;
  readonly layer: Descriptor;
  readonly bytes: Buffer;
}

function isUnreadable(error: unknown): boolean {
  return ProtocolError.isInstance(error) || NotFoundError.isInstance(error);
}

function formatOfLayer(mediaType: string): Candidate['format'] | undefined {
  const type = (mediaType.split(';')[0] ?? '').trim().toLowerCase();
  if (type === SIMPLE_SIGNING_MEDIA_TYPE) return 'cosign-signature';
  if (type === DSSE_MEDIA_TYPE) return 'cosign-attestation';
  if (type.startsWith(BUNDLE_MEDIA_PREFIX)) return 'sigstore-bundle';
  return undefined;
}

/** The signer a bundle or layer claims, unverified (for listings without a policy). */
function claimedSigner(engine: Engine, candidate: Candidate, document: unknown): SignerIdentity | undefined {
  try {
    let pemOrDer: Buffer | string | undefined = candidate.layer.annotations?.[CosignAnnotation.Certificate];
    if (candidate.format === 'sigstore-bundle') {
      const material = (document as { verificationMaterial?: Record<string, unknown> }).verificationMaterial;
      const single = (material?.certificate as { rawBytes?: string } | undefined)?.rawBytes;
      const chain = (material?.x509CertificateChain as { certificates?: { rawBytes?: string }[] } | undefined)
        ?.certificates?.[0]?.rawBytes;
      const raw = single ?? chain;
      if (raw === undefined) return material?.publicKey === undefined ? undefined : { type: 'key' };
      pemOrDer = Buffer.from(raw, 'base64');
    }
    if (pemOrDer === undefined || pemOrDer === '') return { type: 'key' };
    return certificateIdentity(engine.X509Certificate.parse(pemOrDer));
  } catch {
    return undefined;
  }
}

function predicateOf(candidate: Candidate, document: unknown): string | undefined {
  try {
    const envelope =
      candidate.format === 'sigstore-bundle'
        ? (document as { dsseEnvelope?: { payload?: string } }).dsseEnvelope
        : (document as { payload?: string });
    if (envelope?.payload === undefined) return undefined;
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as {
      predicateType?: unknown;
    };
    return typeof statement.predicateType === 'string' ? statement.predicateType : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Creates the signatures capability.
 * @internal
 */
export function createSignatures(
  deps: {
    readonly endpoint: Pick<RegistryEndpoint, 'host'>;
    readonly limits: Pick<ManifestLimits, 'concurrency'>;
  },
  dependencies: SignaturesDependencies,
): Signatures {
  const { manifests, blobs, referrers } = dependencies;
  const concurrency = deps.limits.concurrency;

  const locate = (reference: string): Located => {
    const parsed = parseReference(reference);
    if (reference.startsWith(`${parsed.registry}/`) && parsed.registry !== deps.endpoint.host) {
      throw new InvalidInputError(
        `reference "${reference}" names registry ${parsed.registry}, but this client talks to ${deps.endpoint.host}: use a client for ${parsed.registry}, or leave the registry out`,
        { input: reference },
      );
    }
    return { repository: parsed.repository, target: referenceTarget(parsed) };
  };

  /** Every signature-like layer attached to `subject`. */
  const candidatesOf = async (
    repository: string,
    subject: string,
    signal: AbortSignal | undefined,
  ): Promise<Candidate[]> => {
    const signalOption = signal === undefined ? {} : { signal };
    const descriptors = await referrers.list(repository, subject, { cosignTags: true, ...signalOption });
    const found = await mapLimit([...descriptors], concurrency, async (descriptor) => {
      let manifest: ParsedManifest;
      try {
        // Read every referrer's manifest: on ghcr.io the fallback index may label a bundle with the
        // empty artifactType, so the descriptor alone does not say what it holds.
        manifest = await manifests.get(repository, descriptor.digest, signalOption);
      } catch (error) {
        if (isUnreadable(error)) return [];
        throw error;
      }
      if (isIndex(manifest)) return [];
      const out: Candidate[] = [];
      for (const layer of manifest.manifest.layers) {
        const format = formatOfLayer(layer.mediaType);
        if (format === undefined) continue;
        const bytes = await blobs.getBytes(repository, layer, {
          maxBytes: MAX_SIGNATURE_BYTES,
          ...signalOption,
        });
        out.push({ format, subject, manifest, layer, bytes });
      }
      return out;
    });
    return found.flat();
  };

  const examine = (
    engine: Engine,
    candidate: Candidate,
    policy: ResolvedSignaturePolicy | undefined,
  ): FoundSignature => {
    const base = {
      format: candidate.format,
      subject: candidate.subject,
      manifestDigest: candidate.manifest.digest,
      layerDigest: candidate.layer.digest,
    };
    if (candidate.format === 'cosign-signature') {
      const annotations = candidate.layer.annotations ?? {};
      const result: SignatureVerification =
        policy === undefined
          ? { verified: false, reason: 'not verified: no policy given' }
          : engine.verifyCosignSignature(candidate.bytes, annotations, policy, { digest: candidate.subject });
      const signer = result.signer ?? claimedSigner(engine, candidate, undefined);
      return {
        kind: 'signature',
        ...base,
        verified: result.verified,
        reason: result.reason,
        ...definedProps({ signer }),
      };
    }
    let document: unknown;
    try {
      document = JSON.parse(candidate.bytes.toString('utf8'));
    } catch {
      return { kind: 'attestation', ...base, verified: false, reason: 'unreadable: the layer is not JSON' };
    }
    const result: SignatureVerification =
      policy === undefined
        ? { verified: false, reason: 'not verified: no policy given' }
        : candidate.format === 'sigstore-bundle'
          ? engine.verifyBundle(document, policy, { digest: candidate.subject })
          : engine.verifyCosignAttestation(document, candidate.layer.annotations ?? {}, policy, {
              digest: candidate.subject,
            });
    const predicateType = result.predicateType ?? predicateOf(candidate, document);
    const isMessage =
      candidate.format === 'sigstore-bundle' &&
      typeof document === 'object' &&
      document !== null &&
      'messageSignature' in document;
    const kind = isMessage || predicateType === COSIGN_SIGN_PREDICATE_TYPE ? 'signature' : 'attestation';
    const signer = result.signer ?? claimedSigner(engine, candidate, document);
    return {
      kind,
      ...base,
      ...definedProps({ predicateType }),
      verified: result.verified,
      reason: result.reason,
      ...definedProps({ signer }),
    };
  };

  const collect = async (
    reference: string,
    policy: PolicyInput | undefined,
    signal: AbortSignal | undefined,
  ): Promise<{ digest: string; found: FoundSignature[] }> => {
    const engine = await import('./engine.js');
    const resolved = policy === undefined ? undefined : engine.asResolvedPolicy(policy);
    const { repository, target } = locate(reference);
    const root = await manifests.get(repository, target, signal === undefined ? {} : { signal });
    const candidates = await candidatesOf(repository, root.digest, signal);
    return {
      digest: root.digest,
      found: candidates.map((candidate) => examine(engine, candidate, resolved)),
    };
  };

  const summarise = (
    found: readonly FoundSignature[],
    what: string,
  ): { verified: boolean; reason: string } => {
    const verified = found.filter((entry) => entry.verified);
    if (verified.length > 0) {
      return {
        verified: true,
        reason: `verified: ${verified.length} of ${found.length} ${what} ${verified.length === 1 ? 'verifies' : 'verify'} (${verified[0]?.reason ?? ''})`,
      };
    }
    if (found.length === 0) return { verified: false, reason: `not verified: no ${what} found` };
    return {
      verified: false,
      reason: `not verified: none of ${found.length} ${what} verifies (${found.map((entry) => entry.reason).join('; ')})`,
    };
  };

  return {
    async verify(reference, options) {
      const { digest, found } = await collect(reference, options.policy, options.signal);
      const counted =
        options.kind === undefined ? found : found.filter((entry) => entry.kind === options.kind);
      return { reference, digest, ...summarise(counted, 'signatures and attestations'), signatures: counted };
    },
    async attestations(reference, options = {}) {
      const { digest, found } = await collect(reference, options.policy, options.signal);
      const attestations = found.filter((entry) => entry.kind === 'attestation');
      return { reference, digest, ...summarise(attestations, 'attestations'), signatures: attestations };
    },
    async sign(reference, options) {
      const { privateKey, publicKey } = loadSigningKey(options.key, options.password);
      const { repository, target } = locate(reference);
      const signalOption = options.signal === undefined ? {} : { signal: options.signal };
      const root = await manifests.get(repository, target, signalOption);
      const tag = cosignTagsFor(root.digest).signature;
      const payload = simpleSigningPayload(
        `${deps.endpoint.host}/${repository}`,
        root.digest,
        options.annotations,
      );
      const signature = signBytes(privateKey, payload).toString('base64');
      const layer: Descriptor = {
        mediaType: SIMPLE_SIGNING_MEDIA_TYPE,
        digest: digestOf(payload),
        size: payload.byteLength,
        annotations: { [CosignAnnotation.Signature]: signature },
      };
      // cosign adds to the signatures already at the tag (the same one twice is kept once).
      let layers: Descriptor[] = [];
      const existing = await manifests.head(repository, tag, signalOption);
      if (existing !== undefined) {
        const previous = await manifests.get(repository, tag, signalOption);
        if (!isIndex(previous)) layers = [...previous.manifest.layers];
      }
      const same = (entry: Descriptor): boolean =>
        entry.digest === layer.digest && entry.annotations?.[CosignAnnotation.Signature] === signature;
      if (!layers.some(same)) layers.push(layer);
      await blobs.upload(repository, payload, {
        digest: layer.digest,
        size: layer.size,
        mediaType: layer.mediaType,
        ...signalOption,
      });
      const configBytes = signatureConfig(layers.map((entry) => entry.digest));
      const config: Descriptor = {
        mediaType: MediaType.OciConfig,
        digest: digestOf(configBytes),
        size: configBytes.byteLength,
      };
      await blobs.upload(repository, configBytes, {
        digest: config.digest,
        size: config.size,
        mediaType: config.mediaType,
        ...signalOption,
      });
      const built = buildImageManifest({ config, layers });
      const manifest = await manifests.put(repository, built, { tags: [tag], ...signalOption });
      return { digest: root.digest, tag, manifest, signer: keyIdentity(publicKey) };
    },
  };
}
