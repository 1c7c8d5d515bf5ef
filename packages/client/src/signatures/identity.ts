import { createHash, type KeyObject } from 'node:crypto';
import type { X509Certificate } from '@sigstore/core';
import type { ResolvedSignaturePolicy } from './policy.js';

/**
 * Who signed: a key (its fingerprint), or a Fulcio certificate's identity and GitHub claims.
 * @public
 */
export interface SignerIdentity {
  /** `key` for key-based signatures, `certificate` for keyless ones. */
  readonly type: 'key' | 'certificate';
  /** For keys: `sha256:<hex>` of the public key's DER (SubjectPublicKeyInfo). */
  readonly keyFingerprint?: string;
  /** The certificate's subject alternative name (a workflow URI, an e-mail). */
  readonly subjectAlternativeName?: string;
  /** The OIDC issuer (Fulcio extension 1.3.6.1.4.1.57264.1.8, or the legacy .1.1). */
  readonly issuer?: string;
  /** Source Repository URI (`https://github.com/owner/repo`, extension .1.12; legacy .1.5 as `owner/repo`). */
  readonly sourceRepository?: string;
  /** Source Repository Owner URI (`https://github.com/owner`, extension .1.16). */
  readonly sourceRepositoryOwner?: string;
  /** Build Signer URI: the workflow that signed (`https://github.com/o/r/.github/workflows/x.yml@refs/…`, extension .1.9). */
  readonly buildSignerUri?: string;
  /** Source Repository Ref (`refs/tags/v1`, extension .1.14; legacy .1.6). */
  readonly sourceRepositoryRef?: string;
  /** Source Repository Digest (the commit, extension .1.13; legacy .1.3). */
  readonly sourceRepositoryDigest?: string;
}

const OID = {
  issuerV1: '1.3.6.1.4.1.57264.1.1',
  commitV1: '1.3.6.1.4.1.57264.1.3',
  repositoryV1: '1.3.6.1.4.1.57264.1.5',
  refV1: '1.3.6.1.4.1.57264.1.6',
  issuer: '1.3.6.1.4.1.57264.1.8',
  buildSignerUri: '1.3.6.1.4.1.57264.1.9',
  sourceRepository: '1.3.6.1.4.1.57264.1.12',
  sourceRepositoryDigest: '1.3.6.1.4.1.57264.1.13',
  sourceRepositoryRef: '1.3.6.1.4.1.57264.1.14',
  sourceRepositoryOwner: '1.3.6.1.4.1.57264.1.16',
} as const;

/** A Fulcio v2 extension: a DER UTF8String. */
function derString(certificate: X509Certificate, oid: string): string | undefined {
  const extension = certificate.extension(oid);
  const value = extension?.valueObj.subs[0]?.value;
  return value === undefined ? undefined : value.toString('utf8');
}

/** A legacy (v1) Fulcio extension: the raw bytes. */
function rawString(certificate: X509Certificate, oid: string): string | undefined {
  return certificate.extension(oid)?.value.toString('utf8');
}

/**
 * The identity in a Fulcio certificate.
 * @internal
 */
export function certificateIdentity(certificate: X509Certificate): SignerIdentity {
  const legacyRepository = rawString(certificate, OID.repositoryV1);
  const fields: Record<string, string | undefined> = {
    subjectAlternativeName: certificate.subjectAltName,
    issuer: derString(certificate, OID.issuer) ?? rawString(certificate, OID.issuerV1),
    sourceRepository:
      derString(certificate, OID.sourceRepository) ??
      (legacyRepository === undefined ? undefined : `https://github.com/${legacyRepository}`),
    sourceRepositoryOwner: derString(certificate, OID.sourceRepositoryOwner),
    buildSignerUri: derString(certificate, OID.buildSignerUri),
    sourceRepositoryRef: derString(certificate, OID.sourceRepositoryRef) ?? rawString(certificate, OID.refV1),
    sourceRepositoryDigest:
      derString(certificate, OID.sourceRepositoryDigest) ?? rawString(certificate, OID.commitV1),
  };
  const identity: Record<string, string> = {};
  for (const [name, value] of Object.entries(fields)) if (value !== undefined) identity[name] = value;
  return { type: 'certificate', ...identity };
}

/**
 * The identity of a key: its fingerprint.
 * @internal
 */
export function keyIdentity(key: KeyObject): SignerIdentity {
  const der = key.export({ type: 'spki', format: 'der' });
  return { type: 'key', keyFingerprint: `sha256:${createHash('sha256').update(der).digest('hex')}` };
}

/**
 * One line naming a signer, for reasons and listings.
 * @public
 */
export function describeSigner(signer: SignerIdentity): string {
  if (signer.type === 'key')
    return signer.keyFingerprint === undefined ? 'an unknown key' : `key ${signer.keyFingerprint}`;
  return `${signer.subjectAlternativeName ?? '(no SAN)'} (issuer ${signer.issuer ?? 'unknown'})`;
}

/**
 * Checks a certificate identity against the keyless parts of a policy. Returns the reason it fails,
 * or undefined when it matches.
 * @internal
 */
export function identityMismatch(
  signer: SignerIdentity,
  policy: ResolvedSignaturePolicy,
): string | undefined {
  if (policy.identity !== undefined && !policy.identity.test(signer.subjectAlternativeName)) {
    return `wrong identity: the certificate's identity is ${JSON.stringify(signer.subjectAlternativeName ?? '')}, the policy wants ${policy.identity.describe}`;
  }
  if (policy.issuer !== undefined && !policy.issuer.test(signer.issuer)) {
    return `wrong issuer: the certificate was issued for OIDC issuer ${JSON.stringify(signer.issuer ?? '')}, the policy wants ${policy.issuer.describe}`;
  }
  if (policy.repository !== undefined) {
    const wanted = `https://github.com/${policy.repository}`;
    if (signer.sourceRepository?.toLowerCase() !== wanted.toLowerCase()) {
      return `wrong repository: the certificate names source repository ${JSON.stringify(signer.sourceRepository ?? '')}, the policy wants ${wanted}`;
    }
  }
  if (policy.owner !== undefined) {
    const wanted = `https://github.com/${policy.owner}`;
    const owner =
      signer.sourceRepositoryOwner ??
      // Certificates without the owner extension: the owner is the repository's first segment.
      signer.sourceRepository?.split('/').slice(0, 4).join('/');
    if (owner?.toLowerCase() !== wanted.toLowerCase()) {
      return `wrong owner: the certificate names repository owner ${JSON.stringify(owner ?? '')}, the policy wants ${wanted}`;
    }
  }
  if (policy.workflow !== undefined) {
    const wanted = `https://github.com/${policy.workflow}@`;
    if (signer.buildSignerUri?.startsWith(wanted) !== true) {
      return `wrong workflow: the certificate was signed by workflow ${JSON.stringify(signer.buildSignerUri ?? '')}, the policy wants ${wanted}…`;
    }
  }
  return undefined;
}
