import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { runCommand } from './real-names-child.js';

describe('runCommand', () => {
  it('takes a command that exits without reading its input (the pipe closed: EPIPE) as finished', async () => {
    // More than a pipe holds, so the write meets the closed pipe whatever the timing.
    const outcome = await runCommand('exit 3', tmpdir(), 'x'.repeat(1 << 20));
    expect(outcome).toMatchObject({ command: 'exit 3', code: 3 });
  });

  it('hands the input to a command that reads it', async () => {
    const outcome = await runCommand('wc -c', tmpdir(), 'hello');
    expect(outcome.stdout.trim()).toBe('5');
    expect(outcome.code).toBe(0);
  });
});
