/**
 * The verification code that needs sigstore-js, loaded on demand (`await import('./engine.js')`) so
 * that a process which never verifies (every other `ghcr` command) does not load it.
 * @internal
 */
export { X509Certificate } from '@sigstore/core';
export { asResolvedPolicy } from './attestation-verifier.js';
export { verifyBundle, verifyCosignAttestation, verifyCosignSignature } from './verify.js';
