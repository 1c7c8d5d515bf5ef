import type { Writable } from 'node:stream';

/**
 * Ends a child process's standard input with `input` (nothing when undefined). A command that
 * exits before reading its input (most do) closes the pipe, and the write that ends it then fails
 * with EPIPE: no failure of the command, whose exit says how it did. Any other error of the pipe
 * goes to `fail`. Unhandled, that EPIPE crashed the process that spawned the command now and then.
 */
export function endChildInput(
  stdin: Writable,
  input: string | undefined,
  fail: (error: Error) => void,
): void {
  stdin.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') fail(error);
  });
  if (input === undefined) stdin.end();
  else stdin.end(input);
}
