import { normalizeRegistryHost, staticCredentials } from '@ghcr/auth';
import { AuthenticationError, definedProps, GhcrError, TransportError } from '@ghcr/oci-types';
import type { Command } from 'commander';
import { type CommandRegistrar, contextOf } from '../command.js';
import type { CommandContext } from '../context.js';
import { storeCredentials } from '../docker-config.js';
import { usageError } from '../errors.js';
import { promptLine, readSecretFromStdin } from '../prompt.js';

/**
 * `--json` shape of `ghcr login`.
 * @public
 */
export interface LoginResult {
  /** The key the credentials are stored under (`ghcr.io`, `127.0.0.1:5000`). */
  readonly registry: string;
  readonly username: string;
  /** The config.json written. */
  readonly configPath: string;
  /** The credential helper holding the secret, when config.json names one for the registry. */
  readonly helper?: string;
  /** False with `--no-verify`: the credentials were stored without asking the registry. */
  readonly verified: boolean;
}

const HOST_PORT =
  /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:]+\])(?::\d{1,5})?$/;

/**
 * A registry argument (`ghcr.io`, `localhost:5000`, `https://ghcr.io`) as `host[:port]`.
 * @throws InvalidInputError (`GHCR_USAGE`) when it is not one.
 * @internal
 */
export function registryArgument(input: string): string {
  const host = normalizeRegistryHost(input);
  if (!HOST_PORT.test(host)) {
    throw usageError(`"${input}" is not a registry; give host[:port], e.g. ghcr.io or 127.0.0.1:5000`);
  }
  return host;
}

/**
 * Checks credentials the way `docker login` does: `GET /v2/` with them, answering the registry's
 * challenge (a token exchange at its realm refuses bad credentials).
 */
async function verifyCredentials(
  context: CommandContext,
  host: string,
  username: string,
  password: string,
): Promise<void> {
  const client = context.client(host, {
    credentials: staticCredentials({ username, password }, { source: 'login arguments' }),
  });
  try {
    const response = await client.transport.send({
      operation: 'registry.ping',
      method: 'GET',
      url: `${client.baseUrl}/v2/`,
      auth: { kind: 'registry', actions: [] },
    });
    await response.body.dump();
  } catch (error) {
    if (TransportError.isInstance(error)) {
      throw new TransportError(
        `cannot reach ${host} to check the credentials (${error.message}); nothing was stored. Check the address, or store them unchecked with --no-verify`,
        { code: error.code, cause: error },
      );
    }
    if (
      AuthenticationError.isInstance(error) ||
      (GhcrError.isInstance(error) && error.family === 'authorization')
    ) {
      throw new AuthenticationError(
        `${host} refused the credentials of "${username}" (${error.message}); nothing was stored. Check the user name and the password or token (for ghcr.io: a token with read:packages)`,
        { code: error.code, cause: error },
      );
    }
    throw error;
  }
}

/**
 * `ghcr login <registry> [-u USER] [--password-stdin] [--no-verify]`: checks the credentials against
 * the registry, then stores them in Docker's config.json (or its credential helper) as
 * `docker login` does.
 * @internal
 */
export const registerLoginCommand: CommandRegistrar = (program, runtime) => {
  program
    .command('login')
    .description(
      "check credentials against a registry and store them in Docker's config.json, as docker login does",
    )
    .argument('<registry>', 'the registry, e.g. ghcr.io or 127.0.0.1:5000')
    .option('--no-verify', 'store the credentials without checking them against the registry')
    .action(async (registryInput: string, _options: unknown, command: Command) => {
      const context = contextOf(runtime, command);
      // -u/--username and --password-stdin are global options (they also give other commands credentials).
      const options = command.optsWithGlobals<{
        username?: string;
        passwordStdin?: boolean;
        verify: boolean;
      }>();
      const host = registryArgument(registryInput);
      const interactive = context.io.stdinIsTTY === true && options.passwordStdin !== true;
      let username = options.username?.trim();
      if (username === undefined || username === '') {
        if (!interactive) {
          throw usageError(
            `give the user name with -u (for ghcr.io any name works with a token, e.g. -u "$GITHUB_ACTOR")`,
          );
        }
        username = await promptLine(context.io, 'Username: ', false);
        if (username === '') throw usageError('the user name is empty');
      }
      let password: string;
      if (options.passwordStdin === true) password = await readSecretFromStdin(context.io);
      else if (interactive) password = await promptLine(context.io, 'Password: ', true);
      else {
        throw usageError(
          'pass the password or token on stdin with --password-stdin, e.g. echo "$GHCR_TOKEN" | ghcr login ghcr.io -u USER --password-stdin',
        );
      }
      if (password === '') throw usageError('the password is empty');
      context.addSecret(password);
      context.addSecret(Buffer.from(password).toString('base64'));
      context.addSecret(Buffer.from(`${username}:${password}`).toString('base64'));
      if (options.verify) await verifyCredentials(context, host, username, password);
      else context.output.note(`not checking the credentials against ${host} (--no-verify)`);
      const stored = await storeCredentials(
        host,
        { username, secret: password },
        { env: context.io.env, clock: context.clock },
      );
      const result: LoginResult = {
        registry: stored.serverAddress,
        username,
        configPath: stored.configPath,
        ...definedProps({ helper: stored.helper }),
        verified: options.verify,
      };
      context.output.emit(result, () => [
        `logged in to ${stored.serverAddress} as ${username} (${
          stored.helper === undefined
            ? `stored in ${stored.configPath}`
            : `stored by docker-credential-${stored.helper}, noted in ${stored.configPath}`
        })`,
      ]);
      if (stored.helper === undefined) {
        context.output.note(
          `the password is stored unencrypted (base64) in ${stored.configPath}; set "credsStore" there to use a credential helper instead`,
        );
      }
    });
};
