import { GhcrErrorCode } from '@ghcr/oci-types';
import { describe, expect, it } from 'vitest';
import { transportErrorFrom } from './dispatch.js';
import { tlsCertificateProblem } from './tls-certificate.js';
import type { TransportRequest } from './types.js';

/** An error as Node's TLS socket raises it. */
function tlsError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

const request: TransportRequest = {
  operation: 'manifests.exists',
  method: 'HEAD',
  url: 'https://ghcr.io/v2/octo-org/app/manifests/1.0.0',
};

describe('TLS certificate failures', () => {
  it('classifies Node’s verification codes, through causes', () => {
    expect(tlsCertificateProblem(tlsError('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'x'))).toBe('untrusted');
    expect(tlsCertificateProblem(tlsError('SELF_SIGNED_CERT_IN_CHAIN', 'x'))).toBe('untrusted');
    expect(tlsCertificateProblem(tlsError('DEPTH_ZERO_SELF_SIGNED_CERT', 'x'))).toBe('untrusted');
    expect(tlsCertificateProblem(tlsError('CERT_HAS_EXPIRED', 'x'))).toBe('validity');
    expect(tlsCertificateProblem(tlsError('ERR_TLS_CERT_ALTNAME_INVALID', 'x'))).toBe('name');
    expect(tlsCertificateProblem(new Error('wrapped', { cause: tlsError('CERT_UNTRUSTED', 'x') }))).toBe(
      'untrusted',
    );
    expect(tlsCertificateProblem(tlsError('ECONNREFUSED', 'x'))).toBeUndefined();
    expect(tlsCertificateProblem('text')).toBeUndefined();
  });

  it('an untrusted certificate says so and how to add a CA, never to turn TLS off', () => {
    const error = transportErrorFrom(
      tlsError('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate'),
      request,
    );
    expect(error.message).toBe(
      'HEAD "https://ghcr.io/v2/octo-org/app/manifests/1.0.0": the TLS certificate of ghcr.io is not signed by a CA this process trusts; if ghcr.io uses a private or corporate CA, start Node with its certificate: NODE_EXTRA_CA_CERTS=/path/ca.pem (unable to verify the first certificate, UNABLE_TO_VERIFY_LEAF_SIGNATURE)',
    );
    expect(error).toMatchObject({ code: GhcrErrorCode.CONNECTION_FAILED, isRetryable: false });
  });

  it('an expired certificate or one for other names says that instead', () => {
    expect(
      transportErrorFrom(tlsError('CERT_HAS_EXPIRED', 'certificate has expired'), request).message,
    ).toContain("has expired or is not valid yet; check this machine's clock");
    const name = transportErrorFrom(
      tlsError('ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames"),
      request,
    );
    expect(name.message).toContain(
      "the TLS certificate ghcr.io presented is for other host names; check the registry's address",
    );
    expect(name.message).not.toContain('NODE_EXTRA_CA_CERTS');
  });

  it('other connection failures are not taken for certificate problems', () => {
    const error = transportErrorFrom(tlsError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:443'), request);
    expect(error.message).toBe(
      'HEAD "https://ghcr.io/v2/octo-org/app/manifests/1.0.0": connection failed: connect ECONNREFUSED 127.0.0.1:443 (ECONNREFUSED); the registry never answered: check that it is running and the address (and port) is right',
    );
    expect(error.message).not.toContain('certificate');
    expect(error).toMatchObject({ isRetryable: true });
  });
});
