import { run } from './run.js';

/**
 * Runs the `ghcr` executable's command (loaded by bin.ts): the process's arguments and streams,
 * and the exit code run() decides. No signal is passed: SIGINT/SIGTERM end ordinary commands as
 * usual, and `serve` listens for them itself to close cleanly. Exits the process.
 * @internal
 */
export async function start(): Promise<void> {
  // `ghcr tags … | head`: a reader that goes away early is not a failure of the command.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  const code = await run(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    isTTY: process.stdout.isTTY === true,
    stdinIsTTY: process.stdin.isTTY === true,
  });
  // Exit once stdout has taken everything written (a pipe may still be draining).
  process.stdout.write('', () => process.exit(code));
}
