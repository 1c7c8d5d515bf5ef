import { readFile } from 'node:fs/promises';
import type { SignImageResult } from '@ghcr/client';
import { describeSigner } from '@ghcr/client/core';
import { definedProps } from '@ghcr/oci-types';
import type { Command } from 'commander';
import { collect, parseAnnotations } from '../arguments.js';
import { type CommandRegistrar, contextOf } from '../command.js';
import { usageError } from '../errors.js';
import { formatImage, imageReference } from '../references.js';

/**
 * `--json` shape of `ghcr sign`: where, then `@ghcr/client`'s result (`digest`, `tag`, `manifest`, `signer`).
 * @public
 */
export interface SignResult extends SignImageResult {
  readonly registry: string;
  readonly repository: string;
}

/**
 * `ghcr sign <ref> --key cosign.key`: a cosign-compatible key-based signature at `sha256-<hex>.sig`
 * (no transparency-log upload). The key is cosign's encrypted key file or a PEM PKCS#8 private key;
 * the password comes from `COSIGN_PASSWORD`.
 * @internal
 */
export const registerSignCommand: CommandRegistrar = (program, runtime) => {
  program
    .command('sign')
    .description(
      "sign an image with a key, in cosign's format (verify with `cosign verify --key` or `ghcr verify --key`)",
    )
    .argument('<ref>', 'registry/repository:tag or @digest (":latest" if neither)')
    .requiredOption(
      '--key <file>',
      "cosign's key file (cosign generate-key-pair; password from COSIGN_PASSWORD) or a PKCS#8 PEM private key",
    )
    .option(
      '-a, --annotation <key=value>',
      "an annotation in the payload's optional section (repeatable)",
      collect,
    )
    .action(async (refArgument: string, _options: unknown, command: Command) => {
      const context = contextOf(runtime, command);
      const options = command.opts<{ key: string; annotation?: string[] }>();
      let key: string;
      try {
        key = await readFile(options.key, 'utf8');
      } catch (error) {
        throw usageError(
          `cannot read key file ${options.key}: ${error instanceof Error ? error.message : String(error)}`,
          {
            cause: error,
          },
        );
      }
      const password = context.io.env.COSIGN_PASSWORD;
      if (password !== undefined && password !== '') context.addSecret(password);
      // cosign's key files may have an empty password: COSIGN_PASSWORD="" is one.
      const annotations = parseAnnotations(options.annotation);
      const reference = imageReference(refArgument);
      const client = context.client(reference.registry);
      const signed = await client.signatures.sign(
        formatImage(reference.registry, reference.repository, reference.tag, reference.digest),
        {
          key,
          ...definedProps({ password, annotations }),
        },
      );
      const result: SignResult = {
        registry: reference.registry,
        repository: reference.repository,
        ...signed,
      };
      context.output.emit(result, () => [
        `${formatImage(result.registry, result.repository, result.tag)}: signed ${result.digest} with ${describeSigner(result.signer)}`,
      ]);
    });
};
