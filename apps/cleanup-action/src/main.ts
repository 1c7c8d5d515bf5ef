/**
 * The bundle's entry point (`dist/index.js`): runs the action with the runner's environment and
 * sets the exit code. Everything else lives in `runAction`, which tests call in-process.
 */
import { redactText } from '@ghcr/oci-types';
import { tokenOf } from './inputs.js';
import { runAction } from './run-action.js';
import { escapeData } from './workflow-commands.js';

runAction(process.env).then(
  (result) => {
    process.exitCode = result.exitCode;
  },
  (error: unknown) => {
    // runAction reports its own failures; this is a last resort, still without the token.
    const message = error instanceof Error ? error.message : String(error);
    process.stdout.write(`::error::${escapeData(redactText(message, [tokenOf(process.env)]))}\n`);
    process.exitCode = 1;
  },
);
