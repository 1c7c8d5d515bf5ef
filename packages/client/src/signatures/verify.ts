import { createHash, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { definedProps } from '@ghcr/oci-types';
import { type Bundle, bundleFromJSON } from '@sigstore/bundle';
import { dsse, pem, X509Certificate } from '@sigstore/core';
import { type SignedEntity, toSignedEntity, Verifier } from '@sigstore/verify';
import { parseInTotoStatement } from '../github/vulnerabilities/attestation.js';
import { CosignAnnotation } from './cosign-annotation.js';
import {
  certificateIdentity,
  describeSigner,
  identityMismatch,
  keyIdentity,
  type SignerIdentity,
} from './identity.js';
import { preserveOctetStrings } from './octet-string-encoding.js';
import type { ResolvedSignaturePolicy } from './policy.js';
import { hashOfKey } from './sign.js';

/**
 * The outcome of checking one signature or attestation against a policy.
 * @public
 */
export interface SignatureVerification {
  /** True only when the signature, the signer and the signed content all satisfy the policy. */
  readonly verified: boolean;
  /** What was verified (`signed by …`), or why not (`wrong identity: …`, `tampered: …`). */
  readonly reason: string;
  /** Who signed, when the signature itself checked out (also set when only the policy refused it). */
  readonly signer?: SignerIdentity;
  /** For attestations: the statement's predicate type. */
  readonly predicateType?: string;
  /** For attestations: the statement's subject digests; for cosign signatures: the signed image digest. */
  readonly subjects?: readonly string[];
}

/**
 * What the signed content must name.
 * @public
 */
export interface Expectation {
  /** The image digest the signature or statement must name. If omitted, not checked. */
  readonly digest?: string;
}

const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
/** cosign's simple-signing payload type (`specs/SIGNATURE_SPEC.md`). */
const SIMPLE_SIGNING_TYPE = 'cosign container image signature';

function refuse(reason: string, extra: Partial<SignatureVerification> = {}): SignatureVerification {
  return { verified: false, reason, ...extra };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Checks a raw signature over `data` with a public key: ECDSA (SHA-256 for P-256, SHA-384 for
 * P-384, SHA-512 for P-521; DER signatures), Ed25519, or RSA PKCS#1 v1.5 with SHA-256 (cosign's
 * defaults).
 * @internal
 */
export function verifyWithKey(key: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    return cryptoVerify(hashOfKey(key), data, key, signature);
  } catch {
    return false;
  }
}

/**
 * Reads a DSSE payload as an in-toto statement and checks its predicate type and subject digest.
 * sigstore-js checks the signature only: the subject is ours to check.
 */
function checkStatement(
  payloadType: string,
  payload: Uint8Array,
  policy: ResolvedSignaturePolicy,
  expect: Expectation,
): { readonly refusal?: string; readonly predicateType?: string; readonly subjects?: readonly string[] } {
  if (payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    return {
      refusal: `not an attestation: the DSSE payload type is ${payloadType}, expected ${IN_TOTO_PAYLOAD_TYPE}`,
    };
  }
  let statement: ReturnType<typeof parseInTotoStatement>;
  try {
    statement = parseInTotoStatement(JSON.parse(Buffer.from(payload).toString('utf8')));
  } catch (error) {
    return { refusal: `not an in-toto statement: ${message(error)}` };
  }
  const read = { predicateType: statement.predicateType, subjects: statement.subjects };
  if (policy.predicateType !== undefined && statement.predicateType !== policy.predicateType) {
    return {
      ...read,
      refusal: `wrong predicate type: the statement is ${statement.predicateType}, the policy wants ${policy.predicateType}`,
    };
  }
  if (expect.digest !== undefined && !statement.subjects.includes(expect.digest.toLowerCase())) {
    return {
      ...read,
      refusal: `subject mismatch: the statement attests ${statement.subjects.join(', ')}, not ${expect.digest}`,
    };
  }
  return read;
}

/** The reason a sigstore-js verification error gives, in plain words. */
function sigstoreReason(error: unknown): string {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
  const cause =
    typeof error === 'object' && error !== null && 'cause' in error && error.cause instanceof Error
      ? `: ${error.cause.message}`
      : '';
  const text = `${message(error)}${cause}`;
  switch (code) {
    case 'CERTIFICATE_ERROR':
      return `untrusted certificate: it does not chain to a certificate authority of the trusted root, valid at the signing time (${text})`;
    case 'SIGNATURE_ERROR':
      return `tampered: the signature does not match the signed content (${text})`;
    case 'TLOG_BODY_ERROR':
      return `tampered: the transparency-log entry does not match the signed content (${text})`;
    case 'PUBLIC_KEY_ERROR':
      return `untrusted key: ${text}`;
    case 'TLOG_INCLUSION_PROOF_ERROR':
    case 'TLOG_INCLUSION_PROMISE_ERROR':
    case 'TLOG_MISSING_INCLUSION_ERROR':
      return `transparency-log entry not verified: ${text} (is the log in the trusted root?)`;
    case 'TIMESTAMP_ERROR':
      return `timestamp not verified: ${text}`;
    default:
      return `not verified: ${text}`;
  }
}

function keylessCheck(
  bundle: Bundle,
  entity: SignedEntity,
  policy: ResolvedSignaturePolicy,
): { readonly refusal?: string; readonly signer?: SignerIdentity } {
  const trust = policy.trust;
  if (trust === undefined)
    return { refusal: 'not verified: the policy has no trusted root for keyless signatures' };
  const material = bundle.verificationMaterial.content;
  let leaf: X509Certificate;
  if (material.$case === 'x509CertificateChain') {
    const first = material.x509CertificateChain.certificates[0];
    if (first === undefined) return { refusal: 'not verified: the bundle has an empty certificate chain' };
    leaf = X509Certificate.parse(first.rawBytes);
  } else if (material.$case === 'certificate') {
    leaf = X509Certificate.parse(material.certificate.rawBytes);
  } else {
    return {
      refusal:
        'not verified: the bundle is signed with a key (public-key hint), but the policy is keyless; verify it with --key',
    };
  }
  const signer = certificateIdentity(leaf);
  if (entity.timestamps.length === 0) {
    return {
      signer,
      refusal: `no timestamp: the bundle has no transparency-log entry and no signed timestamp, so nothing proves the certificate (valid ${leaf.notBefore.toISOString()} to ${leaf.notAfter.toISOString()}) was used while it was valid`,
    };
  }
  // The certificates' and timestamps' signatures are checked over bytes @sigstore/core writes back.
  preserveOctetStrings();
  try {
    new Verifier(trust, {
      tlogThreshold: policy.thresholds.tlogThreshold,
      ctlogThreshold: policy.thresholds.ctlogThreshold,
      tsaThreshold: policy.thresholds.timestampThreshold,
    }).verify(entity);
  } catch (error) {
    return { signer, refusal: sigstoreReason(error) };
  }
  const mismatch = identityMismatch(signer, policy);
  return mismatch === undefined ? { signer } : { signer, refusal: mismatch };
}

/**
 * Verifies a sigstore bundle (v0.1 to v0.3, as JSON) against a policy, offline: with a key, the
 * DSSE signature; keyless, the certificate chain to the trusted root, the transparency-log entries
 * and timestamps, the signature, then the identity; and in both cases the in-toto statement's
 * predicate type and subject digest.
 * @public
 */
export function verifyBundle(
  document: unknown,
  policy: ResolvedSignaturePolicy,
  expect: Expectation = {},
  artifact?: Uint8Array,
): SignatureVerification {
  let bundle: Bundle;
  let entity: SignedEntity;
  try {
    bundle = bundleFromJSON(document);
    entity = toSignedEntity(bundle, artifact === undefined ? undefined : Buffer.from(artifact));
  } catch (error) {
    return refuse(`not a valid sigstore bundle: ${message(error)}`);
  }
  const content = bundle.content;
  let signer: SignerIdentity | undefined;
  if (policy.key !== undefined) {
    signer = keyIdentity(policy.key);
    const signed =
      content.$case === 'dsseEnvelope'
        ? dsse.preAuthEncoding(content.dsseEnvelope.payloadType, content.dsseEnvelope.payload)
        : artifact;
    const signature =
      content.$case === 'dsseEnvelope'
        ? content.dsseEnvelope.signatures[0]?.sig
        : content.messageSignature.signature;
    if (signed === undefined || signature === undefined) {
      return refuse('not verified: the bundle signs a blob that was not given', { signer });
    }
    if (!verifyWithKey(policy.key, signed, signature)) {
      return refuse('tampered or another key: the signature does not verify with the given public key');
    }
  } else {
    const checked = keylessCheck(bundle, entity, policy);
    signer = checked.signer;
    if (checked.refusal !== undefined) {
      return refuse(checked.refusal, signer === undefined ? {} : { signer });
    }
  }
  const signerField = signer === undefined ? {} : { signer };
  if (content.$case === 'messageSignature') {
    if (artifact === undefined) {
      return refuse(
        'not an attestation: the bundle signs a blob (message signature), not this image',
        signerField,
      );
    }
    const checked = checkSimpleSigning(artifact, expect);
    const read = {
      ...signerField,
      ...definedProps({ subjects: checked.subjects }),
    };
    if (checked.refusal !== undefined) return refuse(checked.refusal, read);
    return {
      verified: true,
      reason: `signed by ${signer === undefined ? 'unknown' : describeSigner(signer)}`,
      ...read,
    };
  }
  const statement = checkStatement(
    content.dsseEnvelope.payloadType,
    content.dsseEnvelope.payload,
    policy,
    expect,
  );
  const read = {
    ...signerField,
    ...definedProps({ predicateType: statement.predicateType, subjects: statement.subjects }),
  };
  if (statement.refusal !== undefined) return refuse(statement.refusal, read);
  return {
    verified: true,
    reason: `signed by ${signer === undefined ? 'unknown' : describeSigner(signer)}`,
    ...read,
  };
}

/**
 * Checks a cosign simple-signing payload: its type, and that it names the image digest.
 * @internal
 */
export function checkSimpleSigning(
  payload: Uint8Array,
  expect: Expectation,
): { readonly refusal?: string; readonly subjects?: readonly string[] } {
  let document: unknown;
  try {
    document = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch (error) {
    return { refusal: `not a cosign signature payload: ${message(error)}` };
  }
  const critical =
    typeof document === 'object' && document !== null && 'critical' in document
      ? document.critical
      : undefined;
  const type =
    typeof critical === 'object' && critical !== null && 'type' in critical ? critical.type : undefined;
  const image =
    typeof critical === 'object' && critical !== null && 'image' in critical ? critical.image : undefined;
  const digest =
    typeof image === 'object' && image !== null && 'docker-manifest-digest' in image
      ? image['docker-manifest-digest']
      : undefined;
  if (type !== SIMPLE_SIGNING_TYPE || typeof digest !== 'string') {
    return {
      refusal: `not a cosign signature payload: expected critical.type "${SIMPLE_SIGNING_TYPE}" and critical.image["docker-manifest-digest"]`,
    };
  }
  if (expect.digest !== undefined && digest.toLowerCase() !== expect.digest.toLowerCase()) {
    return {
      subjects: [digest],
      refusal: `subject mismatch: the signature is for ${digest}, not ${expect.digest}`,
    };
  }
  return { subjects: [digest] };
}

/**
 * A legacy cosign keyless layer (certificate and Rekor bundle in annotations) as a v0.1 sigstore
 * bundle, so sigstore-js can verify it. Undefined when the layer has no certificate.
 */
function legacyBundle(
  annotations: Readonly<Record<string, string>>,
  content: { readonly messageSignature: unknown } | { readonly dsseEnvelope: unknown },
): unknown {
  const certificate = annotations[CosignAnnotation.Certificate];
  if (certificate === undefined || certificate === '') return undefined;
  const chain = (annotations[CosignAnnotation.Chain] ?? '')
    .split(/(?=-----BEGIN CERTIFICATE-----)/)
    .filter((part) => part.includes('BEGIN CERTIFICATE'));
  const certificates = [certificate, ...chain].map((text) => ({
    rawBytes: pem.toDER(text).toString('base64'),
  }));
  const tlogEntries: unknown[] = [];
  const rekor = annotations[CosignAnnotation.Bundle];
  if (rekor !== undefined && rekor !== '') {
    const parsed = JSON.parse(rekor) as {
      SignedEntryTimestamp?: string;
      Payload?: { body?: string; integratedTime?: number; logIndex?: number; logID?: string };
    };
    const body = parsed.Payload?.body ?? '';
    const entry = JSON.parse(Buffer.from(body, 'base64').toString('utf8')) as {
      kind?: string;
      apiVersion?: string;
    };
    tlogEntries.push({
      logIndex: String(parsed.Payload?.logIndex ?? 0),
      logId: { keyId: Buffer.from(parsed.Payload?.logID ?? '', 'hex').toString('base64') },
      kindVersion: { kind: entry.kind ?? '', version: entry.apiVersion ?? '' },
      integratedTime: String(parsed.Payload?.integratedTime ?? 0),
      inclusionPromise: { signedEntryTimestamp: parsed.SignedEntryTimestamp ?? '' },
      canonicalizedBody: body,
    });
  }
  const timestamp = annotations[CosignAnnotation.Timestamp];
  const rfc3161 =
    timestamp === undefined || timestamp === ''
      ? []
      : [
          {
            signedTimestamp:
              (JSON.parse(timestamp) as { SignedRFC3161Timestamp?: string }).SignedRFC3161Timestamp ?? '',
          },
        ];
  return {
    mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.1',
    verificationMaterial: {
      x509CertificateChain: { certificates },
      tlogEntries,
      ...(rfc3161.length === 0 ? {} : { timestampVerificationData: { rfc3161Timestamps: rfc3161 } }),
    },
    ...content,
  };
}

/**
 * Verifies one cosign legacy signature layer (`sha256-<hex>.sig`): the simple-signing `payload`
 * (the layer blob) and the layer's annotations. With a key, the signature is checked with it;
 * keyless, the certificate and Rekor bundle in the annotations are checked against the trusted
 * root. Either way the payload must name `expect.digest`.
 * @public
 */
export function verifyCosignSignature(
  payload: Uint8Array,
  annotations: Readonly<Record<string, string>>,
  policy: ResolvedSignaturePolicy,
  expect: Expectation = {},
): SignatureVerification {
  const signature = annotations[CosignAnnotation.Signature];
  if (signature === undefined || signature === '') {
    return refuse(`unsigned: the layer has no ${CosignAnnotation.Signature} annotation`);
  }
  const signatureBytes = Buffer.from(signature, 'base64');
  if (policy.key !== undefined) {
    const signer = keyIdentity(policy.key);
    if (!verifyWithKey(policy.key, payload, signatureBytes)) {
      return refuse('tampered or another key: the signature does not verify with the given public key');
    }
    const checked = checkSimpleSigning(payload, expect);
    const subjects = checked.subjects === undefined ? {} : { subjects: checked.subjects };
    if (checked.refusal !== undefined) return refuse(checked.refusal, { signer, ...subjects });
    return { verified: true, reason: `signed by ${describeSigner(signer)}`, signer, ...subjects };
  }
  let bundle: unknown;
  try {
    bundle = legacyBundle(annotations, {
      messageSignature: {
        messageDigest: {
          algorithm: 'SHA2_256',
          digest: createHash('sha256').update(payload).digest('base64'),
        },
        signature,
      },
    });
  } catch (error) {
    return refuse(
      `not verified: cosign's certificate or Rekor bundle annotation is malformed (${message(error)})`,
    );
  }
  if (bundle === undefined) {
    return refuse(
      'not verified: a key-based signature (no certificate), but the policy is keyless; verify it with --key',
    );
  }
  return verifyBundle(bundle, policy, expect, payload);
}

/**
 * Verifies one cosign legacy attestation layer (`sha256-<hex>.att`): a DSSE envelope (the layer
 * blob, parsed JSON) and the layer's annotations, under the same policy as bundles.
 * @public
 */
export function verifyCosignAttestation(
  envelope: unknown,
  annotations: Readonly<Record<string, string>>,
  policy: ResolvedSignaturePolicy,
  expect: Expectation = {},
): SignatureVerification {
  const parsed = envelope as { payload?: unknown; payloadType?: unknown; signatures?: unknown };
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    typeof parsed.payload !== 'string' ||
    typeof parsed.payloadType !== 'string' ||
    !Array.isArray(parsed.signatures)
  ) {
    return refuse('not a DSSE envelope: expected payloadType, payload and signatures');
  }
  if (policy.key !== undefined) {
    const wrapped = {
      mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      verificationMaterial: { publicKey: { hint: '' }, tlogEntries: [] },
      dsseEnvelope: envelope,
    };
    return verifyBundle(wrapped, policy, expect);
  }
  let bundle: unknown;
  try {
    bundle = legacyBundle(annotations, { dsseEnvelope: envelope });
  } catch (error) {
    return refuse(
      `not verified: cosign's certificate or Rekor bundle annotation is malformed (${message(error)})`,
    );
  }
  if (bundle === undefined) {
    return refuse(
      'not verified: a key-based attestation (no certificate), but the policy is keyless; verify it with --key',
    );
  }
  return verifyBundle(bundle, policy, expect);
}
