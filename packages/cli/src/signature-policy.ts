import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { SignaturePolicy } from '@ghcr/client';
import type { Command } from 'commander';
import { usageError } from './errors.js';

/**
 * The signature-policy flags shared by `ghcr verify`, `ghcr attestations` and `ghcr gate`.
 * @internal
 */
export interface PolicyFlags {
  readonly key?: string;
  readonly certificateIdentity?: string;
  readonly certificateIdentityRegexp?: string;
  readonly certificateOidcIssuer?: string;
  readonly certificateOidcIssuerRegexp?: string;
  readonly repo?: string;
  readonly owner?: string;
  readonly signerWorkflow?: string;
  readonly predicateType?: string;
  readonly trustedRoot?: string;
  readonly policy?: string;
}

/**
 * Adds the policy flags to a command.
 * @internal
 */
export function addPolicyOptions(command: Command): Command {
  return command
    .option(
      '--key <file>',
      'a PEM public key (cosign.pub: ECDSA, Ed25519 or RSA) signatures must verify with',
    )
    .option('--certificate-identity <san>', "keyless: the certificate's identity (SAN), exactly")
    .option('--certificate-identity-regexp <regex>', 'keyless: a regular expression the whole SAN must match')
    .option(
      '--certificate-oidc-issuer <url>',
      'keyless: the OIDC issuer, exactly (https://token.actions.githubusercontent.com)',
    )
    .option(
      '--certificate-oidc-issuer-regexp <regex>',
      'keyless: a regular expression the whole issuer must match',
    )
    .option('--repo <owner/name>', 'keyless: the GitHub source repository (Fulcio extension)')
    .option('--owner <owner>', 'keyless: the GitHub repository owner (Fulcio extension)')
    .option('--signer-workflow <owner/repo/.github/workflows/x.yml>', 'keyless: the signing workflow')
    .option('--predicate-type <uri>', 'attestations must have this predicate type')
    .option(
      '--trusted-root <file>',
      'keyless: trusted_root.json (`gh attestation trusted-root`); nothing is fetched',
    )
    .option(
      '--policy <file>',
      'a JSON policy file with the same fields (key and trustedRoot are paths relative to it)',
    );
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw usageError(
      `cannot read ${what} ${path}: ${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
      },
    );
  }
}

async function readJson(path: string, what: string): Promise<unknown> {
  const text = await readText(path, what);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw usageError(
      `${what} ${path} is not JSON: ${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
      },
    );
  }
}

/**
 * The policy the flags (and `--policy` file) describe, or undefined when none was given. Flags
 * override the file's fields. The library validates it (a `ConfigError` naming the field).
 * @internal
 */
export async function policyFromFlags(flags: PolicyFlags): Promise<SignaturePolicy | undefined> {
  let policy: Record<string, unknown> = {};
  if (flags.policy !== undefined) {
    const file = await readJson(flags.policy, 'policy file');
    if (typeof file !== 'object' || file === null || Array.isArray(file)) {
      throw usageError(`policy file ${flags.policy} must hold a JSON object`);
    }
    const base = dirname(flags.policy);
    const fields = file as Record<string, unknown>;
    policy = { ...fields };
    if (typeof fields.key === 'string') policy.key = await readText(resolve(base, fields.key), 'key file');
    if (typeof fields.trustedRoot === 'string') {
      policy.trustedRoot = await readJson(resolve(base, fields.trustedRoot), 'trusted root');
    }
  }
  const text: Record<string, string | undefined> = {
    certificateIdentity: flags.certificateIdentity,
    certificateIdentityRegexp: flags.certificateIdentityRegexp,
    certificateOidcIssuer: flags.certificateOidcIssuer,
    certificateOidcIssuerRegexp: flags.certificateOidcIssuerRegexp,
    repository: flags.repo,
    owner: flags.owner,
    workflow: flags.signerWorkflow,
    predicateType: flags.predicateType,
  };
  for (const [name, value] of Object.entries(text)) if (value !== undefined) policy[name] = value;
  if (flags.key !== undefined) policy.key = await readText(flags.key, 'key file');
  if (flags.trustedRoot !== undefined) policy.trustedRoot = await readJson(flags.trustedRoot, 'trusted root');
  return Object.keys(policy).length === 0 ? undefined : (policy as SignaturePolicy);
}

/**
 * A usage error for a command that needs a policy and got none.
 * @internal
 */
export function missingPolicy(command: string): Error {
  return usageError(
    `${command} needs a signature policy: --key cosign.pub, or --certificate-identity (or --repo/--owner) with --certificate-oidc-issuer and --trusted-root trusted_root.json, or --policy policy.json`,
  );
}
