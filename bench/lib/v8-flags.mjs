// The V8 settings the `ghcr` executable's loader makes (packages/cli/src/bin.ts), for the bench's
// Node programs that stand beside it (the start-up floor, the receive floor, the ceiling script),
// so that they measure Node under the same settings as ours. packages/cli/src/bin.test.ts checks
// that this list and bin.ts agree.
import v8 from 'node:v8';

/** Whether this Node's V8 has Maglev built in, and so on by default (Node 24; not Node 20 or 22). */
const MAGLEV = process.config.variables.v8_enable_maglev === 1;

export const CLI_V8_FLAGS = [
  '--liftoff-only',
  '--no-opt',
  '--semi-space-growth-factor=1',
  ...(MAGLEV ? ['--no-maglev'] : []),
];

/** Sets {@link CLI_V8_FLAGS} in this process, as bin.ts does before anything else runs. */
export function applyCliV8Flags() {
  for (const flag of CLI_V8_FLAGS) v8.setFlagsFromString(flag);
}
