import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import { usageError } from './errors.js';
import type { RunIo } from './io.js';

const MAX_STDIN_BYTES = 64 * 1024;

/**
 * Reads all of stdin (a password or token piped in), without the trailing line break.
 * @throws InvalidInputError (`GHCR_USAGE`) when it is empty or larger than 64 KiB.
 * @internal
 */
export async function readSecretFromStdin(io: RunIo): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of io.stdin) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array);
    total += buffer.length;
    if (total > MAX_STDIN_BYTES)
      throw usageError('stdin holds more than 64 KiB; pipe in the password or token alone');
    chunks.push(buffer);
  }
  const secret = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/[\r\n]+$/, '');
  if (secret.trim() === '') {
    throw usageError(
      'stdin was empty; pipe the password or token in, e.g. echo "$GHCR_TOKEN" | ghcr login ghcr.io -u USER --password-stdin',
    );
  }
  return secret;
}

/**
 * Asks a question on a terminal (the prompt on stderr). With `hidden`, what is typed is not echoed.
 * @internal
 */
export async function promptLine(io: RunIo, question: string, hidden: boolean): Promise<string> {
  const muted = new Writable({
    write(_chunk, _encoding, callback) {
      callback();
    },
  });
  // `node:readline` only for the one command that prompts (login), not at every command's start.
  const { createInterface } = createRequire(import.meta.url)(
    'node:readline',
  ) as typeof import('node:readline');
  const lines = createInterface({ input: io.stdin, output: hidden ? muted : io.stderr, terminal: true });
  try {
    if (hidden) io.stderr.write(question);
    const answer = await new Promise<string>((resolve) => lines.question(hidden ? '' : question, resolve));
    if (hidden) io.stderr.write('\n');
    return answer.trim();
  } finally {
    lines.close();
  }
}
