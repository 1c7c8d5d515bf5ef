import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '@ghcr/oci-types';
import { findBinary, installHint } from '../binaries.js';

/**
 * A certificate authority made for one test run, and a server certificate it signed.
 * @internal
 */
export interface TestCertificateAuthority {
  /** The CA certificate (PEM file): what `NODE_EXTRA_CA_CERTS` points at. */
  readonly caCertificatePath: string;
  /** The server certificate (PEM file), with every name of `names` as a DNS subject alternative name. */
  readonly certificatePath: string;
  /** The server certificate's private key (PEM file, mode 0600). */
  readonly keyPath: string;
}

function runOpenssl(openssl: string, args: readonly string[], what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(openssl, [...args], (error, _stdout, stderr) => {
      if (error === null) resolve();
      else reject(new ConfigError(`openssl could not ${what}: ${stderr.trim()}`, { cause: error }));
    });
  });
}

function newKeyPem(): string {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/**
 * Makes a CA (valid 2 days, `CN=ghcr test CA`) and a server certificate it signs for `names`, in
 * `directory`: keys from node:crypto, certificates from `openssl` (Node can read certificates but
 * not make them). Throws `ConfigError` when openssl is not installed or fails.
 * @internal
 */
export async function createTestCertificateAuthority(options: {
  /** Where the files go (`ca.pem`, `ca-key.pem`, `server.pem`, `server-key.pem`, …). */
  readonly directory: string;
  /** The host names the server certificate is for, e.g. `['ghcr.io', 'api.github.com']`. */
  readonly names: readonly string[];
}): Promise<TestCertificateAuthority> {
  const openssl = findBinary('openssl');
  if (openssl === undefined) {
    throw new ConfigError(`openssl not found on PATH: install it with \`${installHint(['openssl'])}\``);
  }
  if (options.names.length === 0) throw new ConfigError('createTestCertificateAuthority: names is empty');
  const file = (name: string): string => join(options.directory, name);
  await writeFile(file('ca-key.pem'), newKeyPem(), { mode: 0o600 });
  await writeFile(file('server-key.pem'), newKeyPem(), { mode: 0o600 });
  await runOpenssl(
    openssl,
    [
      'req',
      '-x509',
      '-new',
      '-key',
      file('ca-key.pem'),
      '-subj',
      '/CN=ghcr test CA',
      '-days',
      '2',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-out',
      file('ca.pem'),
    ],
    'make the test CA',
  );
  await runOpenssl(
    openssl,
    [
      'req',
      '-new',
      '-key',
      file('server-key.pem'),
      '-subj',
      `/CN=${options.names[0]}`,
      '-out',
      file('server.csr'),
    ],
    'make the certificate request',
  );
  await writeFile(
    file('server.ext'),
    [
      `subjectAltName=${options.names.map((name) => `DNS:${name}`).join(',')}`,
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth',
      '',
    ].join('\n'),
  );
  await runOpenssl(
    openssl,
    [
      'x509',
      '-req',
      '-in',
      file('server.csr'),
      '-CA',
      file('ca.pem'),
      '-CAkey',
      file('ca-key.pem'),
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      file('server.ext'),
      '-out',
      file('server.pem'),
    ],
    'sign the server certificate',
  );
  return {
    caCertificatePath: file('ca.pem'),
    certificatePath: file('server.pem'),
    keyPath: file('server-key.pem'),
  };
}
