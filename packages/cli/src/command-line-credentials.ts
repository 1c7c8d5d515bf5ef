import type { Credential, CredentialProvider } from '@ghcr/auth';
import { canonicalRegistry } from '@ghcr/oci-types';
import { usageError } from './errors.js';
import type { RunIo } from './io.js';
import { promptLine, readSecretFromStdin } from './prompt.js';

/**
 * Credentials given on the command line for one run (`--creds USER[:PASSWORD]`,
 * `--username USER --password-stdin`, and `copy`'s `--src-creds` / `--dest-creds`), each bound to
 * the one registry it is for. As a provider it answers only that registry, ahead of the rest of
 * the chain; the password is read from stdin or asked for on a terminal when first needed.
 * @internal
 */
export interface CommandLineCredentials extends CredentialProvider {
  /** Binds `value` (`USER[:PASSWORD]`; `flag` names it in messages) to `registry`. */
  bind(registry: string, value: string, flag: string): void;
  /** Binds the run's global `--creds` / `--username` to `registry`, once; a second registry is a usage error. */
  bindGlobal(registry: string): void;
  /** True when `--creds` or `--username` was given. */
  readonly hasGlobal: boolean;
}

/**
 * The global credential options, as commander parsed them.
 * @internal
 */
export interface CredentialFlags {
  readonly creds?: string;
  readonly username?: string;
  readonly passwordStdin?: boolean;
}

/**
 * Builds the run's command-line credentials.
 * @throws InvalidInputError (`GHCR_USAGE`) for `--creds` together with `--username`, for an empty
 * user name, and for a missing password when there is neither `--password-stdin` nor a terminal.
 * @internal
 */
export function commandLineCredentials(
  io: RunIo,
  flags: CredentialFlags,
  addSecret: (secret: string) => void,
): CommandLineCredentials {
  const bound = new Map<string, { flag: string; credential: () => Promise<Credential> }>();
  let stdinSecret: Promise<string> | undefined;
  const readStdinOnce = (): Promise<string> => {
    stdinSecret ??= readSecretFromStdin(io);
    return stdinSecret;
  };
  const globalValue = flags.creds ?? flags.username;
  const globalFlag = flags.creds !== undefined ? '--creds' : '--username';
  let globalRegistry: string | undefined;

  const parse = (value: string, flag: string): (() => Promise<Credential>) => {
    const colon = value.indexOf(':');
    const username = (colon < 0 ? value : value.slice(0, colon)).trim();
    if (username === '') throw usageError(`${flag} needs a user name: ${flag} USER[:PASSWORD]`);
    if (colon >= 0) {
      const password = value.slice(colon + 1);
      if (password === '') throw usageError(`${flag} has an empty password after ":"`);
      addSecret(password);
      return () => Promise.resolve({ username, password });
    }
    if (flags.passwordStdin !== true && io.stdinIsTTY !== true) {
      throw usageError(
        `${flag} ${username} has no password: add it after ":" or pipe it in with --password-stdin, e.g. echo "$TOKEN" | ghcr … ${flag} ${username} --password-stdin`,
      );
    }
    let asked: Promise<Credential> | undefined;
    return () => {
      asked ??= (async () => {
        const password =
          flags.passwordStdin === true
            ? await readStdinOnce()
            : await promptLine(io, `Password for ${username}: `, true);
        if (password === '') throw usageError('the password is empty');
        addSecret(password);
        return { username, password };
      })();
      return asked;
    };
  };
  // Parsed when a command first reaches a registry: `login` reads --username itself and never does.
  let globalCredential: (() => Promise<Credential>) | undefined;

  return {
    name: 'command-line',
    hasGlobal: globalValue !== undefined,
    bind(registry, value, flag) {
      bound.set(canonicalRegistry(registry), { flag, credential: parse(value, flag) });
    },
    bindGlobal(registry) {
      if (globalValue === undefined) return;
      if (flags.creds !== undefined && flags.username !== undefined) {
        throw usageError('give either --creds USER[:PASSWORD] or --username USER, not both');
      }
      if (flags.username?.includes(':')) {
        throw usageError('--username takes the user name alone; pass the password with --password-stdin');
      }
      globalCredential ??= parse(globalValue, globalFlag);
      const key = canonicalRegistry(registry);
      if (globalRegistry === undefined) {
        globalRegistry = key;
        const credential = globalCredential;
        if (!bound.has(key)) bound.set(key, { flag: globalFlag, credential });
        return;
      }
      if (globalRegistry !== key) {
        throw usageError(
          `${globalFlag} gives the credentials of one registry, but this command reaches ${globalRegistry} and ${key}; give each its own (copy: --src-creds and --dest-creds)`,
        );
      }
    },
    async resolve(registry) {
      const entry = bound.get(canonicalRegistry(registry));
      if (entry === undefined) return undefined;
      return { credential: await entry.credential(), source: `command line (${entry.flag})` };
    },
  };
}
