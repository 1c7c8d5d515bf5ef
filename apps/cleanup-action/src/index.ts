/**
 * `@ghcr/cleanup-action`: a GitHub Action for GHCR retention and the vulnerability gate. The
 * bundle (`dist/index.js`, from `main.ts`) calls {@link runAction}; these exports are for tests
 * and for running the action from other code.
 *
 * @packageDocumentation
 */

export {
  ACTION_MODES,
  type ActionEnvironment,
  type ActionInputs,
  type ActionMode,
  formatProblem,
  type GateInputs,
  type InputProblem,
  type ParsedInputs,
  parseInputs,
  readInput,
  tokenOf,
} from './inputs.js';
export { type ActionResult, type RunActionOptions, type RunProgress, runAction } from './run-action.js';
export type { BrokenEntry, PackageResult, VersionEntry } from './summary.js';
