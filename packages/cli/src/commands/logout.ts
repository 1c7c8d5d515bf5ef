import { definedProps } from '@ghcr/oci-types';
import type { Command } from 'commander';
import { type CommandRegistrar, contextOf } from '../command.js';
import { eraseCredentials } from '../docker-config.js';
import { registryArgument } from './login.js';

/**
 * `--json` shape of `ghcr logout`.
 * @public
 */
export interface LogoutResult {
  readonly registry: string;
  /** False when there was nothing stored for the registry. */
  readonly removed: boolean;
  readonly configPath: string;
  /** The credential helper asked to erase, when config.json names one. */
  readonly helper?: string;
}

/**
 * `ghcr logout <registry>`: removes stored credentials as `docker logout` does (the config.json
 * entry, and the credential helper's with `erase`).
 * @internal
 */
export const registerLogoutCommand: CommandRegistrar = (program, runtime) => {
  program
    .command('logout')
    .description("remove a registry's credentials from Docker's config.json (and its credential helper)")
    .argument('<registry>', 'the registry, e.g. ghcr.io or 127.0.0.1:5000')
    .action(async (registryInput: string, _options: unknown, command: Command) => {
      const context = contextOf(runtime, command);
      const host = registryArgument(registryInput);
      const erased = await eraseCredentials(host, { env: context.io.env, clock: context.clock });
      const result: LogoutResult = {
        registry: erased.serverAddress,
        removed: erased.removed,
        configPath: erased.configPath,
        ...definedProps({ helper: erased.helper }),
      };
      context.output.emit(result, () => [
        erased.removed ? `logged out of ${erased.serverAddress}` : `not logged in to ${erased.serverAddress}`,
      ]);
    });
};
