import { createPrivateKey, createPublicKey, type KeyObject, scryptSync, sign } from 'node:crypto';
import { ConfigError } from '@ghcr/oci-types';
import nacl from 'tweetnacl';

/** cosign's simple-signing layer media type. @public */
export const SIMPLE_SIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';

const COSIGN_ENCRYPTED =
  /-----BEGIN ENCRYPTED (SIGSTORE|COSIGN) PRIVATE KEY-----([\s\S]*?)-----END ENCRYPTED \1 PRIVATE KEY-----/;

/** The JSON inside cosign's encrypted PEM (go-securesystemslib `encrypted`). */
interface CosignEncryptedKey {
  readonly kdf?: {
    readonly name?: string;
    readonly params?: { readonly N?: number; readonly r?: number; readonly p?: number };
    readonly salt?: string;
  };
  readonly cipher?: { readonly name?: string; readonly nonce?: string };
  readonly ciphertext?: string;
}

/**
 * Decrypts cosign's key file (`ENCRYPTED SIGSTORE PRIVATE KEY`, or the older `ENCRYPTED COSIGN
 * PRIVATE KEY`): base64 JSON naming scrypt (N, r, p, salt) and NaCl secretbox (nonce) over the
 * PKCS#8 DER key, as go-securesystemslib's `encrypted` package writes it.
 */
function decryptCosignKey(body: string, password: string): KeyObject {
  let parsed: CosignEncryptedKey;
  try {
    parsed = JSON.parse(
      Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8'),
    ) as CosignEncryptedKey;
  } catch (error) {
    throw new ConfigError('the cosign key file is damaged: its body is not base64 JSON', {
      field: 'key',
      cause: error,
    });
  }
  const { kdf, cipher, ciphertext } = parsed;
  const N = kdf?.params?.N ?? 0;
  const r = kdf?.params?.r ?? 0;
  const p = kdf?.params?.p ?? 0;
  if (
    kdf?.name !== 'scrypt' ||
    cipher?.name !== 'nacl/secretbox' ||
    typeof kdf.salt !== 'string' ||
    typeof cipher.nonce !== 'string' ||
    typeof ciphertext !== 'string' ||
    !(N > 1 && r > 0 && p > 0)
  ) {
    throw new ConfigError(
      'the cosign key file is not scrypt + nacl/secretbox with a salt, a nonce and a ciphertext: regenerate it with `cosign generate-key-pair`',
      { field: 'key' },
    );
  }
  const secret = scryptSync(password, Buffer.from(kdf.salt, 'base64'), 32, {
    N,
    r,
    p,
    maxmem: 256 * N * r + 1024 * 1024,
  });
  const opened = nacl.secretbox.open(
    new Uint8Array(Buffer.from(ciphertext, 'base64')),
    new Uint8Array(Buffer.from(cipher.nonce, 'base64')),
    new Uint8Array(secret),
  );
  if (opened === null) {
    throw new ConfigError(
      'the password does not open the cosign key file (COSIGN_PASSWORD is wrong, or the file is damaged)',
      { field: 'key' },
    );
  }
  try {
    return createPrivateKey({ key: Buffer.from(opened), format: 'der', type: 'pkcs8' });
  } catch (error) {
    throw new ConfigError('the cosign key file decrypts to something that is not a PKCS#8 private key', {
      field: 'key',
      cause: error,
    });
  }
}

/**
 * Loads a private key to sign with: cosign's encrypted key file (`ENCRYPTED SIGSTORE PRIVATE KEY`,
 * scrypt + NaCl secretbox, as `cosign generate-key-pair` writes it; `password` is what
 * `COSIGN_PASSWORD` holds, possibly empty), a PEM PKCS#8 key (`-----BEGIN PRIVATE KEY-----`), an
 * SEC1 `EC PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`, or an encrypted PKCS#8 key with `password`.
 * @throws ConfigError (field `key`) naming what is wrong.
 * @public
 */
export function loadSigningKey(
  pem: string,
  password?: string,
): { privateKey: KeyObject; publicKey: KeyObject } {
  const encrypted = COSIGN_ENCRYPTED.exec(pem);
  if (encrypted !== null) {
    if (password === undefined) {
      throw new ConfigError(
        "the key is cosign's encrypted format: give its password (COSIGN_PASSWORD, empty if it has none)",
        { field: 'key' },
      );
    }
    return checkedKeyPair(decryptCosignKey(encrypted[2] ?? '', password));
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
  return checkedKeyPair(privateKey);
}

function checkedKeyPair(privateKey: KeyObject): { privateKey: KeyObject; publicKey: KeyObject } {
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
