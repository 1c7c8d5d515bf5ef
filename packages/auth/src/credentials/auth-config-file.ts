/**
 * Docker's config.json and podman's auth.json share one format (containers-auth.json(5)):
 * `auths` (per-registry `auth` = base64 `user:password`, or `identitytoken`, or `registrytoken`),
 * `credHelpers` (registry → helper name) and `credsStore` (the helper for everything else).
 */

import { readFile } from 'node:fs/promises';
import { AuthenticationError, type Clock, definedProps, GhcrErrorCode, lazySchema } from '@ghcr/oci-types';
import * as z from 'zod';
import { type Credential, isEmptyCredential, type ResolvedCredential } from './credential.js';
import { runCredentialHelper } from './credential-helper.js';
import { helperServerUrl, lookupRegistryKey } from './registry-host.js';

const authEntrySchema = lazySchema(() =>
  z
    .object({
      auth: z.string().optional(),
      username: z.string().optional(),
      password: z.string().optional(),
      identitytoken: z.string().optional(),
      registrytoken: z.string().optional(),
    })
    .loose(),
);

const authConfigSchema = lazySchema(() =>
  z
    .object({
      auths: z.record(z.string(), authEntrySchema).optional(),
      credHelpers: z.record(z.string(), z.string()).optional(),
      credsStore: z.string().optional(),
    })
    .loose(),
);

/**
 * The parsed content of a config.json / auth.json file.
 * @internal
 */
export type AuthConfig = z.output<typeof authConfigSchema>;

/** Options shared by the file-based providers when they run helpers. @internal */
export interface AuthConfigLookupOptions {
  /** `docker config` or `podman auth file`: how the file is named in sources and messages. */
  readonly label: string;
  readonly helperTimeoutMs: number;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly clock?: Clock | undefined;
  readonly signal?: AbortSignal | undefined;
}

function unavailable(message: string, cause?: unknown): AuthenticationError {
  return new AuthenticationError(message, {
    code: GhcrErrorCode.CREDENTIALS_UNAVAILABLE,
    ...definedProps({ cause }),
  });
}

/**
 * Reads and validates an auth config file. Resolves `undefined` when the file does not exist.
 * @throws AuthenticationError (`GHCR_CREDENTIALS_UNAVAILABLE`) when it cannot be read or parsed;
 * the message names the file and the offending field, never its content.
 * @internal
 */
export async function readAuthConfig(path: string, label: string): Promise<AuthConfig | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error: unknown) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw unavailable(
      `cannot read ${label} ${path}: ${code ?? 'unknown error'}; check its permissions`,
      error,
    );
  }
  return parseAuthConfig(text, `${label} ${path}`, 'fix or remove the file');
}

/**
 * Parses the text of an auth config (a file's, or `DOCKER_AUTH_CONFIG`'s). Resolves `undefined`
 * for blank text. `where` names it in messages (`docker config /root/.docker/config.json`), and
 * `fix` says what to do about invalid JSON.
 * @throws AuthenticationError (`GHCR_CREDENTIALS_UNAVAILABLE`) naming the offending field, never
 * the content.
 * @internal
 */
export function parseAuthConfig(text: string, where: string, fix: string): AuthConfig | undefined {
  if (text.trim() === '') return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // No cause: a JSON syntax error quotes the text around the fault, which may be a secret.
    throw unavailable(`${where} is not valid JSON; ${fix}`);
  }
  const parsed = authConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue === undefined ? '' : issue.path.map(String).join('.');
    throw unavailable(
      `${where} has an invalid "${field}" field (expected ${field.startsWith('auths') ? 'an object of strings' : 'a string'}); ${fix}`,
    );
  }
  return parsed.data;
}

/**
 * Looks `registry` up in a parsed config: its `credHelpers` entry, else `credsStore`, else the
 * inline `auths` entry. `path` is the file it came from (`''` for one read from the environment). When a helper answers "not found", the inline entry is still tried (Docker
 * itself stops there; a stale inline entry is better than none, and it is what `docker login`
 * wrote before a helper was configured).
 * @internal
 */
export async function resolveFromAuthConfig(
  config: AuthConfig,
  path: string,
  registry: string,
  options: AuthConfigLookupOptions,
): Promise<ResolvedCredential | undefined> {
  // A config read from a file is named by label and path; one from the environment by label alone.
  const where = path === '' ? options.label : `${options.label} ${path}`;
  const helperEntry = lookupRegistryKey(config.credHelpers, registry);
  const helper =
    helperEntry !== undefined && helperEntry.value !== ''
      ? { name: helperEntry.value, setting: 'credHelpers' }
      : config.credsStore !== undefined && config.credsStore !== ''
        ? { name: config.credsStore, setting: 'credsStore' }
        : undefined;
  if (helper !== undefined) {
    const credential = await runCredentialHelper(helper.name, helperServerUrl(registry), {
      timeoutMs: options.helperTimeoutMs,
      env: options.env,
      configuredBy: `${helper.setting} in ${path === '' ? options.label : path}`,
      ...definedProps({ clock: options.clock, signal: options.signal }),
    });
    if (credential !== undefined) {
      return { credential, source: `${where} (${helper.setting}: ${helper.name})` };
    }
  }
  const entry = lookupRegistryKey(config.auths, registry);
  if (entry === undefined) return undefined;
  const credential = credentialOfEntry(entry.value, entry.key, where);
  if (credential === undefined) return undefined;
  return { credential, source: `${where} (auths: ${entry.key})` };
}

function credentialOfEntry(
  entry: z.output<typeof authEntrySchema>,
  key: string,
  where: string,
): Credential | undefined {
  let username = entry.username;
  let password = entry.password;
  if (entry.auth !== undefined && entry.auth !== '') {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) {
      throw unavailable(
        `${where}: auths["${key}"].auth is not base64 of "username:password"; run "docker login ${key}" again or fix the entry`,
      );
    }
    username = decoded.slice(0, colon);
    password = decoded.slice(colon + 1);
  }
  const credential: Credential = {
    ...(username === undefined || username === '' ? {} : { username }),
    ...(password === undefined || password === '' ? {} : { password }),
    ...(entry.identitytoken === undefined || entry.identitytoken === ''
      ? {}
      : { identityToken: entry.identitytoken }),
    ...(entry.registrytoken === undefined || entry.registrytoken === ''
      ? {}
      : { registryToken: entry.registrytoken }),
  };
  return isEmptyCredential(credential) ? undefined : credential;
}
