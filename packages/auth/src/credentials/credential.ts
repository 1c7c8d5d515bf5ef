/**
 * The credential model: what a provider answers and how it says where the answer came from.
 */

/**
 * Credentials for one registry. Every field is a secret except `username`; none is ever put in a
 * message, log line, span or metric.
 *
 * - `username` + `password`: sent as HTTP Basic to the token endpoint (the realm); for ghcr.io the
 *   password is a PAT or `GITHUB_TOKEN`, and the username may be anything.
 * - `identityToken`: an OAuth2 refresh token (Docker's `identitytoken`, or a credential helper's
 *   `<token>` username), exchanged at the realm with `grant_type=refresh_token`.
 * - `registryToken`: a bearer token sent to the registry as is, with no exchange (Docker's
 *   `registrytoken`).
 * @public
 */
export interface Credential {
  readonly username?: string;
  readonly password?: string;
  readonly identityToken?: string;
  readonly registryToken?: string;
}

/**
 * A credential and where it came from.
 * @public
 */
export interface ResolvedCredential {
  readonly credential: Credential;
  /**
   * Where the credential came from, for `--debug` output, e.g. `env GHCR_TOKEN` or
   * `docker config /root/.docker/config.json (credHelpers: desktop)`. Never the secret.
   */
  readonly source: string;
}

/**
 * Options of {@link CredentialProvider.resolve}.
 * @public
 */
export interface ResolveCredentialOptions {
  /** Aborts a slow lookup (a credential helper process is killed). */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Something that can find credentials for a registry.
 *
 * `resolve` answers `undefined` when it has nothing for that registry (not an error), and throws
 * a `GhcrError` (code `GHCR_CREDENTIALS_UNAVAILABLE`) when it should have something but cannot
 * read it: a credential helper that is missing, fails or times out, a config file that is not
 * valid JSON/YAML.
 * @public
 */
export interface CredentialProvider {
  /** A short name for messages, e.g. `env`, `docker-config`, `chain(env, docker-config)`. */
  readonly name: string;
  /**
   * Finds credentials for `registry`, a host with an optional port (`ghcr.io`,
   * `localhost:5000`). Providers normalise the name (scheme, `/v2/` suffix, Docker Hub aliases).
   */
  resolve(registry: string, options?: ResolveCredentialOptions): Promise<ResolvedCredential | undefined>;
}

/**
 * The secret strings of a credential, for redaction: each secret value and the base64 forms it
 * takes on the wire (`Bearer base64(pat)`, `Basic base64(user:pass)`).
 * @public
 */
export function secretsOf(credential: Credential | undefined): string[] {
  if (credential === undefined) return [];
  const secrets: string[] = [];
  for (const value of [credential.password, credential.identityToken, credential.registryToken]) {
    if (value !== undefined && value !== '') {
      secrets.push(value);
      // The base64 forms a secret takes on the wire (Bearer base64(pat), Basic user:pass).
      secrets.push(Buffer.from(value).toString('base64'));
      if (credential.username !== undefined) {
        secrets.push(Buffer.from(`${credential.username}:${value}`).toString('base64'));
      }
    }
  }
  return secrets;
}

/**
 * True when a credential holds nothing usable.
 * @internal
 */
export function isEmptyCredential(credential: Credential): boolean {
  return (
    (credential.password === undefined || credential.password === '') &&
    (credential.identityToken === undefined || credential.identityToken === '') &&
    (credential.registryToken === undefined || credential.registryToken === '')
  );
}
