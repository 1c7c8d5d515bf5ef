import type { FoundSignature, VerifySignaturesResult } from '@ghcr/client';
import { describeSigner } from '@ghcr/client/core';
import type { Command } from 'commander';
import { type CommandRegistrar, contextOf } from '../command.js';
import { ExitCode } from '../exit-codes.js';
import { formatImage, imageReference } from '../references.js';
import { addPolicyOptions, missingPolicy, type PolicyFlags, policyFromFlags } from '../signature-policy.js';

/**
 * `--json` shape of `ghcr verify` and `ghcr attestations`: where, then `@ghcr/client`'s result
 * (`reference`, `digest`, `verified`, `reason`, `signatures`).
 * @public
 */
export interface VerifyResult extends VerifySignaturesResult {
  readonly registry: string;
  readonly repository: string;
}

function line(entry: FoundSignature): string {
  const mark = entry.verified ? 'verified  ' : 'unverified';
  const signer = entry.signer === undefined ? 'unknown signer' : describeSigner(entry.signer);
  const what = entry.predicateType ?? entry.format;
  return `  ${mark} ${entry.kind.padEnd(11)} ${what}  ${signer}${entry.verified ? '' : `: ${entry.reason}`}`;
}

/**
 * `ghcr verify <ref>` (exit 3 unless a signature or attestation verifies under the policy) and
 * `ghcr attestations <ref>` (each attestation with its predicate type and signer; verified when a
 * policy is given).
 * @internal
 */
export const registerVerifyCommand: CommandRegistrar = (program, runtime) => {
  addPolicyOptions(
    program
      .command('verify')
      .description(
        "verify an image's signatures and attestations offline under a policy (exit 3 when none verifies)",
      )
      .argument('<ref>', 'registry/repository:tag or @digest (":latest" if neither)'),
  ).action(async (refArgument: string, _options: unknown, command: Command) => {
    const context = contextOf(runtime, command);
    const policy = await policyFromFlags(command.opts<PolicyFlags>());
    if (policy === undefined) throw missingPolicy('ghcr verify');
    const reference = imageReference(refArgument);
    const client = context.client(reference.registry);
    const found = await client.signatures.verify(
      formatImage(reference.registry, reference.repository, reference.tag, reference.digest),
      { policy },
    );
    const result: VerifyResult = { registry: reference.registry, repository: reference.repository, ...found };
    context.output.emit(result, () => [
      `${formatImage(result.registry, result.repository, undefined, result.digest)}: ${result.reason}`,
      ...result.signatures.map(line),
    ]);
    if (!result.verified) context.setExitCode(ExitCode.Blocked);
  });

  addPolicyOptions(
    program
      .command('attestations')
      .description(
        'list the attestations of an image with their predicate type and signer (verified with a policy)',
      )
      .argument('<ref>', 'registry/repository:tag or @digest (":latest" if neither)'),
  ).action(async (refArgument: string, _options: unknown, command: Command) => {
    const context = contextOf(runtime, command);
    const policy = await policyFromFlags(command.opts<PolicyFlags>());
    const reference = imageReference(refArgument);
    const client = context.client(reference.registry);
    const found = await client.signatures.attestations(
      formatImage(reference.registry, reference.repository, reference.tag, reference.digest),
      policy === undefined ? {} : { policy },
    );
    const result: VerifyResult = { registry: reference.registry, repository: reference.repository, ...found };
    context.output.emit(result, () => [
      `${formatImage(result.registry, result.repository, undefined, result.digest)}: ${result.signatures.length} attestation${result.signatures.length === 1 ? '' : 's'}`,
      ...result.signatures.map(line),
    ]);
  });
};
