import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '@ghcr/oci-types';
import { findBinary, installHint } from './binaries.js';

/**
 * A key that signs registry tokens, and the certificate docker-registry checks them with.
 * @internal
 */
export interface TokenSigningKey {
  /** The RSA private key (PKCS#8 PEM): give it to the token issuer (the simulation's `tokenSigning.privateKey`). */
  readonly privateKeyPem: string;
  /** A self-signed certificate of the key (PEM file): `tokenAuth.rootCertBundle` of the registry. */
  readonly certificatePath: string;
}

/**
 * Makes an RSA key and a self-signed certificate for it (subject `CN=<issuer>`, valid 2 days) in
 * `directory`, with `openssl` (Node can parse certificates but not make them). Throws `ConfigError`
 * when openssl is not installed or fails.
 * @internal
 */
export async function createTokenSigningKey(options: {
  /** Where the key and certificate files go (`token-key.pem`, `token-cert.pem`). */
  readonly directory: string;
  /** The token issuer: the certificate's common name. */
  readonly issuer: string;
}): Promise<TokenSigningKey> {
  const openssl = findBinary('openssl');
  if (openssl === undefined) {
    throw new ConfigError(`openssl not found on PATH: install it with \`${installHint(['openssl'])}\``);
  }
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const keyPath = join(options.directory, 'token-key.pem');
  const certificatePath = join(options.directory, 'token-cert.pem');
  await writeFile(keyPath, privateKeyPem, { mode: 0o600 });
  const args = ['req', '-x509', '-new', '-key', keyPath, '-subj', `/CN=${options.issuer}`, '-days', '2'];
  await new Promise<void>((resolve, reject) => {
    execFile(openssl, [...args, '-out', certificatePath], (error, _stdout, stderr) => {
      if (error === null) resolve();
      else
        reject(
          new ConfigError(`openssl could not make a certificate for the token key: ${stderr.trim()}`, {
            cause: error,
          }),
        );
    });
  });
  return { privateKeyPem, certificatePath };
}
