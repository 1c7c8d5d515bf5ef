import { createPrivateKey, createPublicKey, type KeyObject, sign } from 'node:crypto';
import { ConfigError } from '@ghcr/oci-types';

/** cosign's simple-signing layer media type. @public */
export const SIMPLE_SIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';

/**
 * Loads a private key to sign with: a PEM PKCS#8 key (`-----BEGIN PRIVATE KEY-----`), an SEC1
 * `EC PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`, or an encrypted PKCS#8 key with `password`. cosign's
 * own encrypted format (`ENCRYPTED SIGSTORE PRIVATE KEY`, scrypt and NaCl secretbox) is not read:
 * make a PKCS#8 key with openssl and, for cosign, import the same key (`cosign import-key-pair`).
 * @throws ConfigError (field `key`) naming what is wrong.
 * @public
 */
export function loadSigningKey(
  pem: string,
  password?: string,
): { privateKey: KeyObject; publicKey: KeyObject } {
  if (/-----BEGIN ENCRYPTED (SIGSTORE|COSIGN) PRIVATE KEY-----/.test(pem)) {
    throw new ConfigError(
      "cosign's encrypted key format (ENCRYPTED SIGSTORE PRIVATE KEY) is not supported: sign with a PKCS#8 PEM key (`openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out cosign.key`, public half: `openssl pkey -in cosign.key -pubout -out cosign.pub`); `cosign import-key-pair --key cosign.key` makes the same key usable by cosign",
      { field: 'key' },
    );
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(password === undefined ? pem : { key: pem, passphrase: password });
  } catch (error) {
    throw new ConfigError(
      `the signing key is not a PEM private key${password === undefined ? ' (if it is encrypted, give its password)' : ', or the password is wrong'}: give a PKCS#8 "-----BEGIN PRIVATE KEY-----" file (ECDSA P-256, Ed25519 or RSA)`,
      { field: 'key', cause: error },
    );
  }
  const type = privateKey.asymmetricKeyType;
  if (type !== 'ec' && type !== 'ed25519' && type !== 'rsa') {
    throw new ConfigError(
      `the signing key is ${type ?? 'of an unknown type'}: use ECDSA P-256, Ed25519 or RSA`,
      {
        field: 'key',
      },
    );
  }
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

/**
 * cosign's simple-signing payload for an image (`specs/SIGNATURE_SPEC.md`), byte for byte as cosign
 * writes it: `{"critical":{"identity":{"docker-reference":…},"image":{"docker-manifest-digest":…},"type":"cosign container image signature"},"optional":null}`
 * (`optional` holds the `-a key=value` annotations when given).
 * @public
 */
export function simpleSigningPayload(
  dockerReference: string,
  digest: string,
  annotations?: Readonly<Record<string, string>>,
): Uint8Array {
  const optional = annotations === undefined || Object.keys(annotations).length === 0 ? null : annotations;
  return new TextEncoder().encode(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': dockerReference },
        image: { 'docker-manifest-digest': digest },
        type: 'cosign container image signature',
      },
      optional,
    }),
  );
}

/**
 * Signs bytes as cosign does with a key: ECDSA (DER, SHA-256 for P-256), Ed25519, RSA PKCS#1 v1.5 SHA-256.
 * @internal
 */
export function signBytes(privateKey: KeyObject, data: Uint8Array): Buffer {
  return sign(hashOfKey(privateKey), data, privateKey);
}

/**
 * The config blob cosign writes for a signature image: an empty image config whose `rootfs.diff_ids`
 * are the layers' digests.
 * @internal
 */
export function signatureConfig(layerDigests: readonly string[]): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify({
      architecture: '',
      created: '0001-01-01T00:00:00Z',
      history: [{ created: '0001-01-01T00:00:00Z' }],
      os: '',
      rootfs: { type: 'layers', diff_ids: layerDigests },
      config: {},
    }),
  );
}

/**
 * The hash a key signs with (null for Ed25519, which hashes internally).
 * @internal
 */
export function hashOfKey(key: KeyObject): string | null {
  if (key.asymmetricKeyType === 'ed25519') return null;
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'secp384r1') return 'sha384';
    if (curve === 'secp521r1') return 'sha512';
  }
  return 'sha256';
}
