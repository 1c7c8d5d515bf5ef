/**
 * Writing Docker's config.json the way `docker login` / `docker logout` do
 * (docker/cli `cli/config/credentials`): `auths[<server>].auth = base64(user:password)` in the file,
 * or, when `credHelpers[<server>]` or `credsStore` names a helper, `docker-credential-<name> store`
 * with `{"ServerURL","Username","Secret"}` on stdin and an empty `auths[<server>]` entry in the file
 * (as Docker's native store leaves). Logout removes the entry and runs the helper's `erase`.
 */

import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { DOCKER_HUB, normalizeRegistryHost } from '@ghcr/auth';
import {
  AuthenticationError,
  type Clock,
  type ErrorCode,
  GhcrErrorCode,
  redactText,
  systemClock,
} from '@ghcr/oci-types';

/**
 * `node:child_process`, loaded when a helper first runs: most commands never run one, and loading
 * the module costs ~10 ms of every process's start-up.
 */
const childProcess = (): typeof import('node:child_process') =>
  createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process');

/** The key Docker uses for Docker Hub in config.json and with credential helpers. */
const DOCKER_HUB_SERVER = 'https://index.docker.io/v1/';
const HELPER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const HELPER_TIMEOUT_MS = 30_000;
const MAX_HELPER_OUTPUT = 1024 * 1024;

/** The environment of a run. */
type Env = Readonly<Record<string, string | undefined>>;

/**
 * The config.json `login` writes: `$DOCKER_CONFIG/config.json`, else `$HOME/.docker/config.json`.
 * @internal
 */
export function dockerConfigFile(env: Env): string {
  const directory = env.DOCKER_CONFIG;
  if (directory !== undefined && directory !== '') return join(directory, 'config.json');
  const home = env.HOME !== undefined && env.HOME !== '' ? env.HOME : homedir();
  return join(home, '.docker', 'config.json');
}

/**
 * The server address Docker stores a registry under: the bare `host[:port]`, and Docker Hub's
 * legacy `https://index.docker.io/v1/`.
 * @internal
 */
export function serverAddressOf(registry: string): string {
  const host = normalizeRegistryHost(registry);
  return host === DOCKER_HUB ? DOCKER_HUB_SERVER : host;
}

/** True when `key` names the same registry as `host` (a key with a repository path does not). */
function keyNames(key: string, host: string): boolean {
  const withoutScheme = key.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const slash = withoutScheme.indexOf('/');
  if (slash >= 0) {
    const path = withoutScheme.slice(slash).replace(/\/+$/, '');
    if (path !== '' && !/^\/v[12]$/i.test(path)) return false;
  }
  return normalizeRegistryHost(key) === host;
}

function failure(
  message: string,
  code: ErrorCode = GhcrErrorCode.CREDENTIALS_UNAVAILABLE,
): AuthenticationError {
  return new AuthenticationError(message, { code });
}

type ConfigDocument = Record<string, unknown>;

async function readDocument(path: string): Promise<ConfigDocument> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return {};
    throw failure(`cannot read ${path}: ${code ?? 'unknown error'}; check its permissions`);
  }
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // No cause: a JSON syntax error quotes the text around the fault, which may be a secret.
    throw failure(`${path} is not valid JSON; fix or remove it (nothing was changed)`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw failure(`${path} is not a JSON object; fix or remove it (nothing was changed)`);
  }
  return parsed as ConfigDocument;
}

function recordOf(document: ConfigDocument, field: string, path: string): Record<string, unknown> {
  const value = document[field];
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw failure(`${path}: "${field}" is not an object; fix the file (nothing was changed)`);
  }
  return value as Record<string, unknown>;
}

/** Writes the file atomically (temp file + rename), readable by its owner only, as Docker does. */
async function writeDocument(path: string, document: ConfigDocument): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, `${JSON.stringify(document, null, '\t')}\n`, { mode: 0o600 });
    await chmod(temporary, 0o600);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    const code = (error as NodeJS.ErrnoException).code;
    throw failure(`cannot write ${path}: ${code ?? 'unknown error'}; check the directory's permissions`);
  }
}

/** The helper configured for `host`: its `credHelpers` entry, else `credsStore`. */
function helperOf(
  document: ConfigDocument,
  host: string,
  path: string,
): { name: string; setting: string } | undefined {
  const helpers = recordOf(document, 'credHelpers', path);
  for (const [key, value] of Object.entries(helpers)) {
    if (typeof value === 'string' && value !== '' && keyNames(key, host))
      return { name: value, setting: 'credHelpers' };
  }
  const store = document.credsStore;
  if (typeof store === 'string' && store !== '') return { name: store, setting: 'credsStore' };
  return undefined;
}

/**
 * Options of {@link storeCredentials} and {@link eraseCredentials}.
 * @internal
 */
export interface DockerConfigOptions {
  /** The environment: `DOCKER_CONFIG`, `HOME`, and `PATH` for the helper. */
  readonly env: Env;
  /** Time source of the helper's timeout. If omitted, the system clock. */
  readonly clock?: Clock;
  /** Milliseconds a helper may take. If omitted, 30 000. */
  readonly helperTimeoutMs?: number;
}

/**
 * Where `login` put the credentials.
 * @internal
 */
export interface StoreOutcome {
  /** The config.json written. */
  readonly configPath: string;
  /** The key the registry is stored under (`ghcr.io`, `127.0.0.1:5000`). */
  readonly serverAddress: string;
  /** The credential helper that holds the secret, when one is configured. */
  readonly helper?: string;
}

/**
 * Stores `username`/`secret` for `registry` as `docker login` does.
 * @throws AuthenticationError when the file is unreadable or invalid (it is left as it was) or the
 * helper fails (`GHCR_CREDENTIAL_HELPER_FAILED`).
 * @internal
 */
export async function storeCredentials(
  registry: string,
  credential: { readonly username: string; readonly secret: string },
  options: DockerConfigOptions,
): Promise<StoreOutcome> {
  const path = dockerConfigFile(options.env);
  const document = await readDocument(path);
  const host = normalizeRegistryHost(registry);
  const serverAddress = serverAddressOf(registry);
  const auths = recordOf(document, 'auths', path);
  const helper = helperOf(document, host, path);
  if (helper !== undefined) {
    await runHelper(
      helper.name,
      'store',
      JSON.stringify({ ServerURL: serverAddress, Username: credential.username, Secret: credential.secret }),
      { ...options, configuredBy: `${helper.setting} in ${path}`, secrets: [credential.secret] },
    );
    // Docker's native store keeps an entry without the secret in the file.
    await writeDocument(path, { ...document, auths: { ...auths, [serverAddress]: {} } });
    return { configPath: path, serverAddress, helper: helper.name };
  }
  const auth = Buffer.from(`${credential.username}:${credential.secret}`).toString('base64');
  await writeDocument(path, { ...document, auths: { ...auths, [serverAddress]: { auth } } });
  return { configPath: path, serverAddress };
}

/**
 * What `logout` removed.
 * @internal
 */
export interface EraseOutcome {
  readonly configPath: string;
  readonly serverAddress: string;
  /** True when an entry was removed from the file or the helper. */
  readonly removed: boolean;
  /** The credential helper asked to erase, when one is configured. */
  readonly helper?: string;
}

/**
 * Removes the credentials of `registry` as `docker logout` does: every `auths` key naming it, and
 * the helper's entry (`erase`), when a helper is configured.
 * @internal
 */
export async function eraseCredentials(
  registry: string,
  options: DockerConfigOptions,
): Promise<EraseOutcome> {
  const path = dockerConfigFile(options.env);
  const document = await readDocument(path);
  const host = normalizeRegistryHost(registry);
  const serverAddress = serverAddressOf(registry);
  const auths = recordOf(document, 'auths', path);
  const remaining = Object.fromEntries(Object.entries(auths).filter(([key]) => !keyNames(key, host)));
  const removedFromFile = Object.keys(remaining).length !== Object.keys(auths).length;
  const helper = helperOf(document, host, path);
  let removedFromHelper = false;
  if (helper !== undefined) {
    const output = await runHelper(helper.name, 'erase', serverAddress, {
      ...options,
      configuredBy: `${helper.setting} in ${path}`,
      secrets: [],
      notFoundIsOk: true,
    });
    removedFromHelper = output !== undefined;
  }
  if (removedFromFile) await writeDocument(path, { ...document, auths: remaining });
  return {
    configPath: path,
    serverAddress,
    removed: removedFromFile || removedFromHelper,
    ...(helper === undefined ? {} : { helper: helper.name }),
  };
}

/**
 * Runs `docker-credential-<name> <action>` with `input` on stdin. Resolves its stdout, or
 * `undefined` when `notFoundIsOk` and the helper says "credentials not found".
 */
function runHelper(
  name: string,
  action: 'store' | 'erase',
  input: string,
  options: DockerConfigOptions & {
    readonly configuredBy: string;
    readonly secrets: readonly string[];
    readonly notFoundIsOk?: boolean;
  },
): Promise<string | undefined> {
  const binary = `docker-credential-${name}`;
  const helperFailed = (message: string): AuthenticationError =>
    failure(redactText(message, options.secrets), 'GHCR_CREDENTIAL_HELPER_FAILED');
  if (!HELPER_NAME.test(name)) {
    return Promise.reject(
      helperFailed(
        `invalid credential helper name "${name}" (${options.configuredBy}): use letters, digits, ".", "_" and "-"; fix the setting`,
      ),
    );
  }
  const clock = options.clock ?? systemClock;
  const timeoutMs = options.helperTimeoutMs ?? HELPER_TIMEOUT_MS;
  const { spawn } = childProcess();
  return new Promise((resolve, reject) => {
    const timer = new AbortController();
    let settled = false;
    const output: Buffer[] = [];
    let outputBytes = 0;
    const child = spawn(binary, [action], {
      env: options.env as NodeJS.ProcessEnv,
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });
    const finish = (settle: () => void): void => {
      if (settled) return;
      settled = true;
      timer.abort();
      settle();
    };
    clock.sleep(timeoutMs, timer.signal).then(
      () =>
        finish(() => {
          child.kill('SIGKILL');
          reject(
            helperFailed(
              `credential helper "${binary}" (${options.configuredBy}) did not finish "${action}" within ${timeoutMs} ms and was stopped; check that it works`,
            ),
          );
        }),
      () => {
        // Cancelled: the helper finished first.
      },
    );
    const collect = (chunk: Buffer): void => {
      outputBytes += chunk.length;
      if (outputBytes <= MAX_HELPER_OUTPUT) output.push(chunk);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.stdin?.on('error', () => {
      // A helper that exits without reading stdin: its exit status tells what happened.
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      finish(() =>
        reject(
          error.code === 'ENOENT'
            ? helperFailed(
                `credential helper "${binary}" is not on PATH (${options.configuredBy}); install it, or remove that setting to store the credentials in the file itself`,
              )
            : helperFailed(
                `cannot run credential helper "${binary}" (${options.configuredBy}): ${error.message}`,
              ),
        ),
      );
    });
    child.on('close', (code) => {
      finish(() => {
        const text = Buffer.concat(output).toString('utf8');
        if (code === 0) {
          resolve(text);
          return;
        }
        if (options.notFoundIsOk === true && /credentials not found/i.test(text)) {
          resolve(undefined);
          return;
        }
        const firstLine = (text.trim().split(/\r?\n/, 1)[0] ?? '').slice(0, 200);
        reject(
          helperFailed(
            `credential helper "${binary}" (${options.configuredBy}) failed to ${action} (exit ${code ?? 'by signal'})${firstLine === '' ? '' : `: ${firstLine}`}`,
          ),
        );
      });
    });
    child.stdin?.end(input);
  });
}
