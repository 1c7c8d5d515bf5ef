/**
 * Running Docker credential helpers (`docker-credential-<name> get`), per
 * docker/docker-credential-helpers: the server URL goes on stdin, the answer is
 * `{"ServerURL","Username","Secret"}` on stdout, and "credentials not found" is reported as a
 * non-zero exit with that text.
 */

import { createRequire } from 'node:module';
import {
  AuthenticationError,
  type Clock,
  definedProps,
  GhcrErrorCode,
  redactText,
  systemClock,
} from '@ghcr/oci-types';
import type { Credential } from './credential.js';

/**
 * `node:child_process`, loaded when a helper first runs: most commands never run one, and loading
 * the module costs ~10 ms of every process's start-up.
 */
const childProcess = (): typeof import('node:child_process') =>
  createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process');

/**
 * Options of {@link runCredentialHelper}.
 * @public
 */
export interface CredentialHelperOptions {
  /** Milliseconds to wait for the helper. If omitted, 10 000. The process is killed after it. */
  readonly timeoutMs?: number | undefined;
  /** Environment of the helper process; its `PATH` is where the binary is looked up. If omitted, `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Time source for the timeout. If omitted, the system clock. */
  readonly clock?: Clock | undefined;
  /** Aborts the lookup and kills the helper. */
  readonly signal?: AbortSignal | undefined;
  /** Where the helper was configured, for messages, e.g. `credsStore in /root/.docker/config.json`. */
  readonly configuredBy?: string | undefined;
}

/** Helper names become part of a binary name: keep them to a safe alphabet. */
const HELPER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const MAX_OUTPUT_BYTES = 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 10_000;

function unavailable(message: string, cause?: unknown): AuthenticationError {
  return new AuthenticationError(message, {
    code: GhcrErrorCode.CREDENTIALS_UNAVAILABLE,
    ...definedProps({ cause }),
  });
}

function firstLine(text: string): string {
  const line = text.trim().split(/\r?\n/, 1)[0] ?? '';
  return redactText(line.length > 200 ? `${line.slice(0, 200)}…` : line);
}

/**
 * Runs `docker-credential-<helper> get` with `serverUrl` on stdin and reads its answer.
 *
 * Resolves `undefined` when the helper has no credentials for that server ("credentials not
 * found", or an empty secret). A `Username` of `<token>` means the secret is an identity
 * (refresh) token. Rejects with `AuthenticationError` code `GHCR_CREDENTIALS_UNAVAILABLE` when the
 * binary is not on `PATH`, exits non-zero for another reason (the message has the exit code and
 * the first line of stderr), prints something that is not JSON, or does not finish within the
 * timeout. Secrets never appear in those messages.
 * @public
 */
export function runCredentialHelper(
  helper: string,
  serverUrl: string,
  options: CredentialHelperOptions = {},
): Promise<Credential | undefined> {
  const binary = `docker-credential-${helper}`;
  const where = options.configuredBy === undefined ? '' : ` (configured by ${options.configuredBy})`;
  if (!HELPER_NAME.test(helper)) {
    return Promise.reject(
      unavailable(
        `invalid docker credential helper name "${helper}"${where}: a helper name may hold only letters, digits, ".", "_" and "-"; fix the setting`,
      ),
    );
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const clock = options.clock ?? systemClock;
  const signal = options.signal;
  if (signal?.aborted) return Promise.reject(signal.reason);

  const { spawn } = childProcess();
  return new Promise<Credential | undefined>((resolve, reject) => {
    const timer = new AbortController();
    let settled = false;
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let outputBytes = 0;

    const child = spawn(binary, ['get'], {
      env: (options.env ?? process.env) as NodeJS.ProcessEnv,
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });

    const finish = (settle: () => void): void => {
      if (settled) return;
      settled = true;
      timer.abort();
      signal?.removeEventListener('abort', onAbort);
      settle();
    };
    const kill = (): void => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      child.stdout?.destroy();
      child.stderr?.destroy();
    };
    const onAbort = (): void => {
      finish(() => {
        kill();
        reject(signal?.reason);
      });
    };
    signal?.addEventListener('abort', onAbort, { once: true });

    clock.sleep(timeoutMs, timer.signal).then(
      () =>
        finish(() => {
          kill();
          reject(
            unavailable(
              `docker credential helper "${binary}"${where} did not answer within ${timeoutMs} ms and was stopped; check that it works (run "echo <registry> | ${binary} get") or raise the helper timeout`,
            ),
          );
        }),
      () => {
        // The timer was cancelled because the helper finished first.
      },
    );

    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      outputBytes += chunk.length;
      if (outputBytes > MAX_OUTPUT_BYTES) {
        finish(() => {
          kill();
          reject(
            unavailable(
              `docker credential helper "${binary}"${where} printed more than 1 MiB; it is not a credential helper`,
            ),
          );
        });
        return;
      }
      into.push(chunk);
    };
    child.stdout?.on('data', collect(stdout));
    child.stderr?.on('data', collect(stderr));
    // A helper that exits without reading stdin makes the write fail with EPIPE: not our error.
    child.stdin?.on('error', () => {});

    child.on('error', (error: NodeJS.ErrnoException) => {
      finish(() => {
        if (error.code === 'ENOENT') {
          reject(
            unavailable(
              `docker credential helper "${binary}" was not found on PATH${where}. Install it (https://github.com/docker/docker-credential-helpers, or the tool that provides it, such as Docker Desktop), or remove that setting from the file, or provide credentials another way (e.g. the GHCR_TOKEN environment variable)`,
              error,
            ),
          );
        } else {
          reject(
            unavailable(
              `could not run docker credential helper "${binary}"${where}: ${error.message}`,
              error,
            ),
          );
        }
      });
    });

    child.on('close', (code, signalName) => {
      finish(() => {
        const out = Buffer.concat(stdout).toString('utf8');
        const err = Buffer.concat(stderr).toString('utf8');
        if (code !== 0) {
          // docker-credential-helpers report a missing entry as exit 1 + this text on stdout.
          if (/credentials not found/i.test(`${out}\n${err}`)) {
            resolve(undefined);
            return;
          }
          const detail = firstLine(err) || firstLine(out);
          const status =
            code === null ? `was killed by ${signalName ?? 'a signal'}` : `exited with code ${code}`;
          reject(
            unavailable(
              `docker credential helper "${binary}"${where} ${status}${detail === '' ? '' : `: ${detail}`}; run "echo <registry> | ${binary} get" to see why (often: log in again with "docker login")`,
            ),
          );
          return;
        }
        try {
          resolve(parseHelperOutput(out, binary, where));
        } catch (error: unknown) {
          reject(error);
        }
      });
    });

    child.stdin?.end(`${serverUrl}\n`);
  });
}

function parseHelperOutput(output: string, binary: string, where: string): Credential | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(output);
  } catch {
    // The parse error's message may quote the output, i.e. the secret: it is not kept as cause.
    throw unavailable(
      `docker credential helper "${binary}"${where} printed something that is not JSON (${output.length} characters); expected {"Username": …, "Secret": …}`,
    );
  }
  if (typeof parsed !== 'object' || parsed === null) {
    throw unavailable(`docker credential helper "${binary}"${where} printed JSON that is not an object`);
  }
  const { Username: username, Secret: secret } = parsed as { Username?: unknown; Secret?: unknown };
  if (typeof secret !== 'string' || secret === '') return undefined;
  if (username === '<token>') return { identityToken: secret };
  return { ...(typeof username === 'string' && username !== '' ? { username } : {}), password: secret };
}
