import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AuthenticationError, definedProps, GhcrErrorCode } from '@ghcr/oci-types';
import type { CredentialProvider } from './credential.js';
import { configHomeOf } from './paths.js';
import { normalizeRegistryHost } from './registry-host.js';

/**
 * Options of {@link ghCliCredentials}.
 * @public
 */
export interface GhCliCredentialsOptions {
  /** The environment (`GH_CONFIG_DIR`, `XDG_CONFIG_HOME`, `HOME`). If omitted, `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The home directory. If omitted, `$HOME`, else the OS's home directory. */
  readonly home?: string | undefined;
  /**
   * Which gh host's token serves which registry. If omitted, `{ 'ghcr.io': 'github.com' }`. Add
   * `{ 'containers.ghe.example.com': 'ghe.example.com' }` for GitHub Enterprise Server.
   */
  readonly hosts?: Readonly<Record<string, string>> | undefined;
}

/**
 * The path of the GitHub CLI's hosts.yml for these options: `$GH_CONFIG_DIR/hosts.yml`, else
 * `$XDG_CONFIG_HOME/gh/hosts.yml`, else `~/.config/gh/hosts.yml`.
 * @internal
 */
export function ghHostsPath(options: GhCliCredentialsOptions = {}): string {
  const env = options.env ?? process.env;
  const dir = env.GH_CONFIG_DIR;
  if (dir !== undefined && dir !== '') return join(dir, 'hosts.yml');
  return join(configHomeOf(options.home, env), 'gh', 'hosts.yml');
}

function unavailable(message: string, cause?: unknown): AuthenticationError {
  return new AuthenticationError(message, {
    code: GhcrErrorCode.CREDENTIALS_UNAVAILABLE,
    ...definedProps({ cause }),
  });
}

function stringField(value: unknown, key: string): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const field = (value as Record<string, unknown>)[key];
  return typeof field === 'string' && field.trim() !== '' ? field.trim() : undefined;
}

/**
 * The token the GitHub CLI stored in its hosts.yml (`github.com: { oauth_token, user }`, or the
 * active user's entry under `users:`), for ghcr.io. Recent gh versions keep the token in the
 * system keyring instead; then there is nothing in the file and this provider answers nothing
 * (use `GH_TOKEN=$(gh auth token)`). The token needs the `read:packages` scope
 * (`gh auth refresh -s read:packages`). The source reads like
 * `gh hosts.yml /root/.config/gh/hosts.yml (github.com, user octocat)`.
 * @public
 */
export function ghCliCredentials(options: GhCliCredentialsOptions = {}): CredentialProvider {
  const hosts = new Map(
    Object.entries(options.hosts ?? { 'ghcr.io': 'github.com' }).map(([registry, host]) => [
      normalizeRegistryHost(registry),
      host,
    ]),
  );
  return {
    name: 'gh-cli',
    async resolve(registry) {
      const ghHost = hosts.get(normalizeRegistryHost(registry));
      if (ghHost === undefined) return undefined;
      const path = ghHostsPath(options);
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (error: unknown) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
        throw unavailable(
          `cannot read gh hosts.yml ${path}: ${code ?? 'unknown error'}; check its permissions`,
          error,
        );
      }
      // yaml is loaded only here, when a hosts.yml exists to be read: importing it eagerly cost
      // every process ~25 ms of start-up.
      const { parseDocument } = await import('yaml');
      const document = parseDocument(text, { prettyErrors: false });
      const firstError = document.errors[0];
      if (firstError !== undefined) {
        // yaml's messages quote the source around the fault, which may be a token: no cause kept.
        const line = firstError.linePos?.[0].line;
        throw unavailable(
          `gh hosts.yml ${path} is not valid YAML${line === undefined ? '' : ` (line ${line})`}; run "gh auth login" again or fix the file`,
        );
      }
      const content: unknown = document.toJS();
      if (typeof content !== 'object' || content === null) return undefined;
      const entry = (content as Record<string, unknown>)[ghHost];
      const user = stringField(entry, 'user');
      let token = stringField(entry, 'oauth_token');
      if (token === undefined && user !== undefined) {
        const users =
          typeof entry === 'object' && entry !== null ? (entry as Record<string, unknown>).users : undefined;
        token = stringField(
          typeof users === 'object' && users !== null ? (users as Record<string, unknown>)[user] : undefined,
          'oauth_token',
        );
      }
      if (token === undefined) return undefined;
      return {
        credential: user === undefined ? { password: token } : { username: user, password: token },
        source: `gh hosts.yml ${path} (${ghHost}${user === undefined ? '' : `, user ${user}`})`,
      };
    },
  };
}
