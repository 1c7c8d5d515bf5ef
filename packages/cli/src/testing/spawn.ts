import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { endChildInput } from '@ghcr/test-support';

/** The built executable the end-to-end tests run. */
export const BIN = fileURLToPath(new URL('../../dist/bin.cjs', import.meta.url));

/**
 * Fails clearly when the cli is not built: CI builds before it tests, so a missing dist is an error.
 */
export function requireBuiltCli(): void {
  if (!existsSync(BIN)) {
    throw new Error(
      `${BIN} is missing: build the cli first (npx turbo run build --filter=@ghcr/cli, or npx tsup in packages/cli). The end-to-end tests run the built "ghcr" executable as a child process.`,
    );
  }
}

export interface ProcessOutcome {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node dist/bin.cjs <argv>` (or `options.bin`, an installed copy) to completion, with `stdin` piped in. */
export function ghcr(
  argv: readonly string[],
  options: {
    readonly env: Readonly<Record<string, string | undefined>>;
    readonly stdin?: string;
    readonly bin?: string;
  },
): Promise<ProcessOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [options.bin ?? BIN, ...argv], {
      env: options.env as NodeJS.ProcessEnv,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    endChildInput(child.stdin, options.stdin, reject);
  });
}

/** A long-running `ghcr serve`: its first stdout line, and a way to stop it. */
export interface ServeProcess {
  readonly child: ChildProcess;
  readonly firstLine: string;
  /** Sends `signal` and resolves how the process ended, with everything it printed on stderr. */
  stop(
    signal?: NodeJS.Signals,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

/** Starts `node dist/bin.cjs serve <argv>` (or `bin`, an installed copy) and waits for its first line on stdout. */
export function startServe(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  bin: string = BIN,
): Promise<ServeProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'serve', ...argv], {
      env: env as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => {
      child.on('exit', (code, signal) => done({ code, signal }));
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const onData = (chunk: string): void => {
      stdout += chunk;
      const newline = stdout.indexOf('\n');
      if (newline < 0) return;
      child.stdout.off('data', onData);
      resolve({
        child,
        firstLine: stdout.slice(0, newline),
        async stop(signal = 'SIGTERM') {
          child.kill(signal);
          const ended = await exited;
          return { ...ended, stderr };
        },
      });
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.on('error', reject);
    void exited.then(({ code, signal }) => {
      reject(
        new Error(`ghcr serve ended before printing a line (code ${code}, signal ${signal}): ${stderr}`),
      );
    });
  });
}
