import { createHash, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { dsse } from '@sigstore/core';
import { initializeCA, initializeTLog, initializeTSA } from '@sigstore/mock';

/**
 * A Sigstore of our own for tests: a Fulcio-like CA, a Rekor-like transparency
 * log and a timestamp authority, all with keys made here (@sigstore/mock), the `trusted_root.json`
 * naming them, and a signer of real DSSE bundles. Nothing touches the network.
 * @internal
 */
export interface LocalSigstore {
  /** The trusted root naming this CA, log and TSA. */
  readonly trustedRoot: Record<string, unknown>;
  /** Signs an in-toto statement as a DSSE bundle (v0.3 unless told). */
  signStatement(statement: unknown, options?: SignOptions): Promise<Record<string, unknown>>;
  /**
   * Signs a cosign simple-signing payload keyless, as cosign's legacy `.sig` layer carries it: the
   * annotations (signature, PEM certificate, Rekor bundle of a `hashedrekord` entry).
   */
  signLegacy(
    payload: Uint8Array,
    options?: Pick<SignOptions, 'identity' | 'issuer'>,
  ): Promise<Record<string, string>>;
}

/** What a test bundle carries. @internal */
export interface SignOptions {
  /** The certificate's SAN. If omitted, the GitHub workflow identity of `octo/app`. */
  readonly identity?: string;
  /** The OIDC issuer extension. If omitted, GitHub Actions'. */
  readonly issuer?: string;
  /** Further Fulcio extensions (OID → value). */
  readonly extensions?: Readonly<Record<string, string>>;
  /** Leave out the transparency-log entry. */
  readonly noTlog?: boolean;
  /** Add an RFC 3161 timestamp. */
  readonly timestamp?: boolean;
  /** The bundle version written. If omitted, 0.3. */
  readonly version?: '0.1' | '0.2' | '0.3';
}

/** @internal */
export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';
/** @internal */
export const GITHUB_IDENTITY = 'https://github.com/octo/app/.github/workflows/release.yml@refs/heads/main';
/** Fulcio's OIDs. @internal */
export const FULCIO_OID = {
  issuer: '1.3.6.1.4.1.57264.1.8',
  buildSignerUri: '1.3.6.1.4.1.57264.1.9',
  sourceRepository: '1.3.6.1.4.1.57264.1.12',
  sourceRepositoryOwner: '1.3.6.1.4.1.57264.1.16',
} as const;

/** What @sigstore/mock's log returns for an entry (Rekor's LogEntry). */
interface MockLogEntry {
  readonly body: string;
  readonly integratedTime: number;
  readonly logID: string;
  readonly logIndex: number;
  readonly verification?: {
    readonly signedEntryTimestamp?: string;
    readonly inclusionProof?: {
      readonly logIndex: number;
      readonly rootHash: string;
      readonly treeSize: number;
      readonly hashes: readonly string[];
      readonly checkpoint: string;
    };
  };
}

const spki = (key: KeyObject): Buffer => key.export({ type: 'spki', format: 'der' });
const VALID_FROM = '2020-01-01T00:00:00Z';

/**
 * Starts a local Sigstore. Its CA, log and TSA sign at one fixed moment: by default a minute after
 * their root certificates were made (@sigstore/mock dates those from the real time, valid for a
 * year), so every signing certificate is valid then, and expires ten minutes later. `signingTime`
 * moves that moment (an hour back makes certificates that have already expired).
 * @internal
 */
export async function createLocalSigstore(
  options: { readonly signingTime?: Date } = {},
): Promise<LocalSigstore> {
  const clock = options.signingTime ?? new Date(Math.ceil(Date.now() / 1000) * 1000 + 60_000);
  const caKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const tlogKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const tsaKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  // No CT log: @sigstore/mock 0.10's SCT list encoding is not one @sigstore/core 2 parses, so the
  // root lists no CT log (and the policy then needs no SCT, as for GitHub's own trust domain).
  const ca = await initializeCA(caKeys, undefined, clock);
  const tlog = await initializeTLog('https://rekor.local', tlogKeys, clock);
  const tsa = await initializeTSA(tsaKeys, clock);
  const tlogKeyId = createHash('sha256').update(tlog.publicKey).digest();
  const trustedRoot = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [
      {
        baseUrl: 'https://rekor.local',
        hashAlgorithm: 'SHA2_256',
        publicKey: {
          rawBytes: tlog.publicKey.toString('base64'),
          keyDetails: 'PKIX_ECDSA_P256_SHA_256',
          validFor: { start: VALID_FROM },
        },
        logId: { keyId: tlogKeyId.toString('base64') },
      },
    ],
    certificateAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'sigstore' },
        uri: 'https://fulcio.local',
        certChain: { certificates: [{ rawBytes: ca.rootCertificate.toString('base64') }] },
        validFor: { start: VALID_FROM },
      },
    ],
    ctlogs: [],
    timestampAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'tsa' },
        uri: 'https://tsa.local',
        certChain: {
          certificates: [
            { rawBytes: tsa.intCertificate.toString('base64') },
            { rawBytes: tsa.rootCertificate.toString('base64') },
          ],
        },
        validFor: { start: VALID_FROM },
      },
    ],
  };

  const issue = async (options: SignOptions) => {
    const signer = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const extensions = Object.entries({
      [FULCIO_OID.issuer]: options.issuer ?? GITHUB_ISSUER,
      ...(options.extensions ?? {}),
    }).map(([oid, value]) => ({ oid, value }));
    const certificate = await ca.issueCertificate({
      publicKey: spki(signer.publicKey),
      subjectAltName: options.identity ?? GITHUB_IDENTITY,
      extensions,
    });
    return { signer, certificate };
  };

  return {
    trustedRoot,
    async signLegacy(payload, options = {}) {
      const { signer, certificate } = await issue(options);
      const signature = sign('sha256', payload, signer.privateKey);
      const certificatePem = `-----BEGIN CERTIFICATE-----\n${certificate.toString('base64')}\n-----END CERTIFICATE-----\n`;
      const entry = {
        apiVersion: '0.0.1',
        kind: 'hashedrekord',
        spec: {
          data: { hash: { algorithm: 'sha256', value: createHash('sha256').update(payload).digest('hex') } },
          signature: {
            content: signature.toString('base64'),
            publicKey: { content: Buffer.from(certificatePem).toString('base64') },
          },
        },
      };
      const logged = Object.values(await tlog.log(entry))[0] as MockLogEntry | undefined;
      if (logged === undefined) throw new Error('the mock log returned no entry');
      return {
        'dev.cosignproject.cosign/signature': signature.toString('base64'),
        'dev.sigstore.cosign/certificate': certificatePem,
        'dev.sigstore.cosign/chain': '',
        'dev.sigstore.cosign/bundle': JSON.stringify({
          SignedEntryTimestamp: logged.verification?.signedEntryTimestamp ?? '',
          Payload: {
            body: logged.body,
            integratedTime: logged.integratedTime,
            logIndex: logged.logIndex,
            logID: logged.logID,
          },
        }),
      };
    },
    async signStatement(statement, options = {}) {
      const { signer, certificate } = await issue(options);
      const payloadType = 'application/vnd.in-toto+json';
      const payload = Buffer.from(JSON.stringify(statement));
      const signature = sign('sha256', dsse.preAuthEncoding(payloadType, payload), signer.privateKey);
      const envelope = {
        payload: payload.toString('base64'),
        payloadType,
        signatures: [{ sig: signature.toString('base64'), keyid: '' }],
      };
      const certificatePem = `-----BEGIN CERTIFICATE-----\n${certificate.toString('base64')}\n-----END CERTIFICATE-----\n`;
      const tlogEntries: unknown[] = [];
      if (options.noTlog !== true) {
        const proposed = {
          apiVersion: '0.0.1',
          kind: 'dsse',
          spec: {
            envelopeHash: {
              algorithm: 'sha256',
              value: createHash('sha256').update(JSON.stringify(envelope)).digest('hex'),
            },
            payloadHash: { algorithm: 'sha256', value: createHash('sha256').update(payload).digest('hex') },
            signatures: [
              {
                signature: signature.toString('base64'),
                verifier: Buffer.from(certificatePem).toString('base64'),
              },
            ],
          },
        };
        const logged = Object.values(await tlog.log(proposed))[0] as MockLogEntry | undefined;
        if (logged === undefined) throw new Error('the mock log returned no entry');
        const proof = logged.verification?.inclusionProof;
        tlogEntries.push({
          logIndex: String(logged.logIndex),
          logId: { keyId: Buffer.from(logged.logID, 'hex').toString('base64') },
          kindVersion: { kind: 'dsse', version: '0.0.1' },
          integratedTime: String(logged.integratedTime),
          inclusionPromise: { signedEntryTimestamp: logged.verification?.signedEntryTimestamp ?? '' },
          ...(proof === undefined
            ? {}
            : {
                inclusionProof: {
                  logIndex: String(proof.logIndex),
                  rootHash: Buffer.from(proof.rootHash, 'hex').toString('base64'),
                  treeSize: String(proof.treeSize),
                  hashes: proof.hashes.map((hash) => Buffer.from(hash, 'hex').toString('base64')),
                  checkpoint: { envelope: proof.checkpoint },
                },
              }),
          canonicalizedBody: logged.body,
        });
      }
      const timestamps: unknown[] = [];
      if (options.timestamp === true) {
        const token = await tsa.timestamp({
          artifactHash: createHash('sha256').update(signature).digest(),
          hashAlgorithmOID: '2.16.840.1.101.3.4.2.1',
          nonce: 1234,
          policyOID: '1.2.3.4.5',
          certReq: true,
        });
        timestamps.push({ signedTimestamp: token.toString('base64') });
      }
      const version = options.version ?? '0.3';
      const key =
        version === '0.3'
          ? { certificate: { rawBytes: certificate.toString('base64') } }
          : { x509CertificateChain: { certificates: [{ rawBytes: certificate.toString('base64') }] } };
      return {
        mediaType:
          version === '0.3'
            ? 'application/vnd.dev.sigstore.bundle.v0.3+json'
            : `application/vnd.dev.sigstore.bundle+json;version=${version}`,
        verificationMaterial: {
          ...key,
          tlogEntries,
          ...(timestamps.length === 0
            ? {}
            : { timestampVerificationData: { rfc3161Timestamps: timestamps } }),
        },
        dsseEnvelope: envelope,
      };
    },
  };
}

/**
 * A PKCS#8 private key and its public key, PEM (as `ghcr sign --key` and `--key cosign.pub` take them).
 * @internal
 */
export function generateSigningKey(type: 'ecdsa' | 'ed25519' | 'rsa' = 'ecdsa'): {
  readonly privateKeyPem: string;
  readonly publicKeyPem: string;
} {
  const pair =
    type === 'ed25519'
      ? generateKeyPairSync('ed25519')
      : type === 'rsa'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    privateKeyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}
