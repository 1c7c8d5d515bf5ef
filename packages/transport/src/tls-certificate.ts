/**
 * What was wrong with a server's TLS certificate, from Node's error codes: `untrusted` (not signed
 * by a CA this process trusts), `validity` (expired or not yet valid) or `name` (issued for other
 * host names).
 * @public
 */
export type TlsCertificateProblem = 'untrusted' | 'validity' | 'name';

const PROBLEMS: Readonly<Record<string, TlsCertificateProblem>> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'untrusted',
  UNABLE_TO_GET_ISSUER_CERT: 'untrusted',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'untrusted',
  SELF_SIGNED_CERT_IN_CHAIN: 'untrusted',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'untrusted',
  CERT_UNTRUSTED: 'untrusted',
  CERT_SIGNATURE_FAILURE: 'untrusted',
  INVALID_CA: 'untrusted',
  CERT_HAS_EXPIRED: 'validity',
  CERT_NOT_YET_VALID: 'validity',
  ERR_TLS_CERT_ALTNAME_INVALID: 'name',
};

/**
 * The certificate problem behind an error (it or one of its causes carries one of Node's TLS
 * verification codes), or `undefined` when the error is not a certificate failure.
 * @public
 */
export function tlsCertificateProblem(error: unknown): TlsCertificateProblem | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 10 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code in PROBLEMS) return PROBLEMS[code];
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * What to tell the user about a certificate problem of `host`. It never suggests turning TLS off:
 * an untrusted certificate is fixed by trusting its CA (`NODE_EXTRA_CA_CERTS`), for which Node
 * reads a PEM file at start-up.
 * @internal
 */
export function tlsCertificateAdvice(problem: TlsCertificateProblem, host: string): string {
  switch (problem) {
    case 'untrusted':
      return `the TLS certificate of ${host} is not signed by a CA this process trusts; if ${host} uses a private or corporate CA, start Node with its certificate: NODE_EXTRA_CA_CERTS=/path/ca.pem`;
    case 'validity':
      return `the TLS certificate of ${host} has expired or is not valid yet; check this machine's clock, or ask the registry's operator to renew the certificate`;
    case 'name':
      return `the TLS certificate ${host} presented is for other host names; check the registry's address`;
  }
}
