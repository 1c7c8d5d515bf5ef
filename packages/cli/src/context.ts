import { type CredentialProvider, chainCredentials } from '@ghcr/auth';
import { createGhcrClient, type GhcrClient, type RequestBudget } from '@ghcr/client/core';
import { type Clock, definedProps, systemClock } from '@ghcr/oci-types';
import { type CommandLineCredentials, commandLineCredentials } from './command-line-credentials.js';
import { cliCredentialChain, observedCredentials } from './credentials.js';
import type { ExitCode } from './exit-codes.js';
import { type GlobalOptions, resolveGlobalOptions } from './global-options.js';
import type { RunIo } from './io.js';
import { createOutput, type Output } from './output.js';
import { createRequestLog, formatRequestLogEntry, type RequestLogEntry } from './request-log.js';
import { cliVersion } from './version.js';

/**
 * Options of {@link CommandContext.client}.
 * @public
 */
export interface ClientOverrides {
  /** Use these credentials instead of the credential chain (`login` checks the new ones). */
  readonly credentials?: CredentialProvider;
  /** More transport middleware (`cleanup --budget`'s request budget); such a client is not shared. */
  readonly middleware?: readonly RequestBudget['middleware'][];
}

/**
 * What a command's action gets: the run's streams and global options, an output that honours
 * `--json`/`--quiet`/`--debug`, and registry clients that share the run's request log and
 * redaction.
 * @public
 */
export interface CommandContext {
  readonly io: RunIo;
  readonly options: GlobalOptions;
  readonly output: Output;
  /** The time source of progress rates and durations. */
  readonly clock: Clock;
  /**
   * A client for `registry` (`ghcr.io`, `127.0.0.1:5000`), created once per registry and run and
   * closed when the run ends. Plain HTTP for loopback hosts and with `--plain-http`; credentials
   * from the chain; `--concurrency`; every request in the `--debug` log.
   */
  client(registry: string, overrides?: ClientOverrides): GhcrClient;
  /**
   * Gives `registry` the credentials `value` (`USER[:PASSWORD]`) for this run, ahead of the chain
   * (`copy --src-creds` / `--dest-creds`); `flag` names them in messages and in `--debug`.
   */
  useCredentials(registry: string, value: string, flag: string): void;
  /** Remembers a secret (a password read from stdin, a served token) so it is redacted everywhere. */
  addSecret(secret: string): void;
  /** Ends the run with this exit code unless it fails (the gate uses 3). */
  setExitCode(code: ExitCode): void;
  /** Runs `close` when the run ends, before clients are closed. */
  onClose(close: () => Promise<void> | void): void;
}

/**
 * The client asks its credentials for `ghcr.io` when it calls the GitHub REST API (a GHCR token is
 * a GitHub token). When the API belongs to the client's own registry — `ghcr serve`, whose API
 * shares the registry's address, or GitHub Enterprise Server (`containers.<host>` and
 * `https://<host>/api/v3`) — the registry's credentials are the ones GitHub there accepts, so those
 * are handed out instead. Otherwise nothing changes, so a local registry's password never goes to
 * api.github.com.
 * @internal
 */
export function apiCredentialsOf(
  credentials: CredentialProvider,
  registry: string,
  apiUrl: string,
): CredentialProvider {
  const apiHost = new URL(apiUrl).host.toLowerCase();
  const host = registry.toLowerCase();
  if (host === 'ghcr.io' || (host !== apiHost && host !== `containers.${apiHost}`)) return credentials;
  return {
    name: credentials.name,
    resolve(target, resolveOptions) {
      return credentials.resolve(target === 'ghcr.io' ? registry : target, resolveOptions);
    },
  };
}

/**
 * The state of one `run()`: no module-scope state, so runs in one process (tests) never share it.
 * @internal
 */
export class CliRuntime {
  readonly io: RunIo;
  readonly secrets = new Set<string>();
  /** The command being run (`tags`), for error hints. */
  commandName: string | undefined;
  exitCode: ExitCode | undefined;
  #context: CommandContext | undefined;
  readonly #clients = new Map<string, GhcrClient>();
  readonly #closers: (() => Promise<void> | void)[] = [];
  readonly #log: ReturnType<typeof createRequestLog>;
  #debugSink: ((entry: RequestLogEntry) => void) | undefined;

  constructor(io: RunIo) {
    this.io = io;
    this.#log = createRequestLog({
      secrets: () => this.secrets,
      onEntry: (entry) => this.#debugSink?.(entry),
    });
  }

  /** The global options once a command resolved them. */
  get options(): GlobalOptions | undefined {
    return this.#context?.options;
  }

  /**
   * The context of the command now running; resolves the global options on first use.
   * @throws InvalidInputError (`GHCR_USAGE`) for an invalid `--api-url` / `GITHUB_API_URL`.
   */
  context(rawOptions: Readonly<Record<string, unknown>>): CommandContext {
    if (this.#context !== undefined) return this.#context;
    const options = resolveGlobalOptions(rawOptions, this.io.env);
    const output = createOutput(this.io, options);
    if (options.debug) this.#debugSink = (entry) => output.debug(formatRequestLogEntry(entry));
    const sources = new Map<string, string>();
    const commandLine: CommandLineCredentials = commandLineCredentials(
      this.io,
      {
        ...(typeof rawOptions.creds === 'string' ? { creds: rawOptions.creds } : {}),
        ...(typeof rawOptions.username === 'string' ? { username: rawOptions.username } : {}),
        ...(rawOptions.passwordStdin === true ? { passwordStdin: true } : {}),
      },
      (secret) => this.secrets.add(secret),
    );
    const chain = chainCredentials([commandLine, cliCredentialChain(this.io.env)]);
    const credentials = observedCredentials(chain, {
      secret: (secret) => this.secrets.add(secret),
      source: (registry, source) => {
        const shown = source ?? 'none found (anonymous)';
        if (sources.get(registry) === shown) return;
        sources.set(registry, shown);
        output.debug(`credentials for ${registry}: ${shown}`);
      },
    });
    const runtime = this;
    const clock = this.io.clock ?? systemClock;
    const context: CommandContext = {
      io: this.io,
      options,
      output,
      clock,
      client(registry, overrides = {}) {
        const key =
          overrides.credentials === undefined && overrides.middleware === undefined ? registry : undefined;
        if (overrides.credentials === undefined) commandLine.bindGlobal(registry);
        const existing = key === undefined ? undefined : runtime.#clients.get(key);
        if (existing !== undefined) return existing;
        const chosen = overrides.credentials ?? credentials;
        const client = createGhcrClient({
          registry,
          ...(options.plainHttp ? { plainHttp: true, registries: { '*': { plainHttp: true } } } : {}),
          credentials: chosen,
          apiCredentials: apiCredentialsOf(chosen, registry, options.apiUrl),
          versions: { apiUrl: options.apiUrl },
          clock,
          ...definedProps({ concurrency: options.concurrency }),
          transportOptions: {
            userAgent: `ghcr-cli/${cliVersion()}`,
            middleware: [
              { name: 'request-log', middleware: runtime.#log.middleware, after: 'redirect' },
              ...(overrides.middleware ?? []),
            ],
            secrets: () => runtime.secrets,
          },
        });
        // Under --debug, say when a transfer goes on after a failure (re-fetched, resumed, restarted).
        if (options.debug) client.events.on('retry', (event) => output.debug(event.message));
        runtime.#clients.set(key ?? `${registry}#${runtime.#clients.size}`, client);
        return client;
      },
      useCredentials(registry, value, flag) {
        commandLine.bind(registry, value, flag);
      },
      addSecret(secret) {
        if (secret !== '') runtime.secrets.add(secret);
      },
      setExitCode(code) {
        runtime.exitCode = code;
      },
      onClose(close) {
        runtime.#closers.push(close);
      },
    };
    this.#context = context;
    return context;
  }

  /** Runs the close hooks, then closes every client; failures here are not the command's. */
  async close(): Promise<void> {
    for (const close of this.#closers.splice(0).reverse()) {
      try {
        await close();
      } catch {
        // Closing is best effort: the command's outcome is already decided.
      }
    }
    await Promise.allSettled([...this.#clients.values()].map((client) => client.close()));
    this.#clients.clear();
  }
}
