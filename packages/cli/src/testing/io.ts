import { Readable, Writable } from 'node:stream';
import type { Clock } from '@ghcr/oci-types';
import { definedProps } from '@ghcr/oci-types';
import type { RunIo } from '../io.js';
import { run } from '../run.js';

/** A writable that keeps what was written, as text. */
export class Capture extends Writable {
  readonly chunks: Buffer[] = [];
  isTTY: boolean;
  columns = 120;
  constructor(isTTY = false) {
    super();
    this.isTTY = isTTY;
  }
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: () => void): void {
    this.chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    callback();
    this.emit('written');
  }
  /** Resolves once the text written so far matches. */
  waitFor(pattern: RegExp): Promise<RegExpExecArray> {
    return new Promise((resolve) => {
      const check = (): void => {
        const match = pattern.exec(this.text);
        if (match === null) return;
        this.off('written', check);
        resolve(match);
      };
      this.on('written', check);
      check();
    });
  }
  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
  get text(): string {
    return this.bytes.toString('utf8');
  }
}

/**
 * A clock whose waits pass at once (time jumps forward by the wait): retries and backoff run
 * without real delays, and their count is still observable.
 */
export function instantClock(start = Date.UTC(2026, 0, 1)): Clock {
  let now = start;
  return {
    now: () => now,
    sleep(ms, signal) {
      if (signal?.aborted) return Promise.reject(signal.reason);
      now += Math.max(0, ms);
      return Promise.resolve();
    },
  };
}

export interface RunOutcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly stdoutBytes: Buffer;
}

export interface TestRunOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly stdin?: string;
  readonly isTTY?: boolean;
  readonly stderrIsTTY?: boolean;
  readonly clock?: Clock;
  readonly signal?: AbortSignal | undefined;
}

/** The io of an in-process run: captured output, the given stdin and environment. */
export function testIo(options: TestRunOptions = {}): { io: RunIo; stdout: Capture; stderr: Capture } {
  const stdout = new Capture(options.isTTY ?? false);
  const stderr = new Capture(options.stderrIsTTY ?? options.isTTY ?? false);
  const io: RunIo = {
    stdout,
    stderr,
    stdin: Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]),
    env: options.env ?? { HOME: '/nonexistent-home', PATH: process.env.PATH },
    isTTY: options.isTTY ?? false,
    ...definedProps({ clock: options.clock, signal: options.signal }),
  };
  return { io, stdout, stderr };
}

/** Runs `ghcr <argv>` in-process. */
export async function runCli(argv: readonly string[], options: TestRunOptions = {}): Promise<RunOutcome> {
  const { io, stdout, stderr } = testIo(options);
  const code = await run(argv, io);
  return { code, stdout: stdout.text, stderr: stderr.text, stdoutBytes: stdout.bytes };
}
