import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { InvalidInputError } from '@ghcr/oci-types';

/**
 * Where a cleanup of many packages stopped, so that the next run continues there: the packages
 * finished in the current cycle. A cycle starts when no state is found, when the previous cycle
 * completed, or when the owner, the selection or the policy changed (the `fingerprint`).
 * @public
 */
export interface CleanupState {
  /** Always 1. */
  readonly format: 1;
  readonly owner: string;
  /** A hash of the owner, the package selection, the policy and dry-run: another run's state is not resumed. */
  readonly fingerprint: string;
  /** When this cycle's first run started (ISO 8601). */
  readonly startedAt: string;
  /** When the state was last written (ISO 8601). */
  readonly updatedAt: string;
  /** Runs in this cycle so far (1 for the first). */
  readonly runs: number;
  /** Packages finished in this cycle, in the order they finished. */
  readonly done: readonly string[];
  /** True when every selected package was finished: the next run starts a new cycle. */
  readonly complete: boolean;
}

/**
 * Loads and saves a {@link CleanupState}.
 * @public
 */
export interface CleanupStateStore {
  /** The saved state, or undefined when there is none. */
  load(): Promise<CleanupState | undefined>;
  /** Saves the state (after each package, so a run cut short loses at most one package's record). */
  save(state: CleanupState): Promise<void>;
}

/**
 * A fingerprint of what a cleanup does, for {@link CleanupState.fingerprint}.
 * @internal
 */
export function cleanupFingerprint(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);
}

function isState(value: unknown): value is CleanupState {
  if (typeof value !== 'object' || value === null) return false;
  const state = value as Partial<CleanupState>;
  return (
    state.format === 1 &&
    typeof state.owner === 'string' &&
    typeof state.fingerprint === 'string' &&
    typeof state.startedAt === 'string' &&
    typeof state.runs === 'number' &&
    Array.isArray(state.done) &&
    state.done.every((name) => typeof name === 'string') &&
    typeof state.complete === 'boolean'
  );
}

/**
 * A {@link CleanupStateStore} in a JSON file (a workflow keeps it between runs with
 * `actions/cache` or an artifact). A missing file is no state; the file is replaced atomically
 * (written beside it, then renamed), so an interrupted write leaves the previous state.
 * @throws InvalidInputError from `load` when the file is not a cleanup state (naming the path).
 * @public
 */
export function createFileCleanupState(path: string): CleanupStateStore {
  return {
    async load() {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        throw new InvalidInputError(
          `${path} is not JSON, so it is not a cleanup state; delete it to start a new cycle`,
          { cause: error },
        );
      }
      if (!isState(value)) {
        throw new InvalidInputError(
          `${path} is not a cleanup state (format 1: owner, fingerprint, done, complete); delete it to start a new cycle`,
        );
      }
      return value;
    },
    async save(state) {
      await mkdir(dirname(path), { recursive: true });
      const temporary = `${path}.${process.pid}.tmp`;
      await writeFile(temporary, `${JSON.stringify(state, null, 2)}\n`, 'utf8');
      await rename(temporary, path);
    },
  };
}

/**
 * A {@link CleanupStateStore} in memory (`current` shows the last state saved).
 * @public
 */
export function createMemoryCleanupState(
  initial?: CleanupState,
): CleanupStateStore & { readonly current: CleanupState | undefined } {
  let current = initial;
  return {
    get current() {
      return current;
    },
    load: () => Promise.resolve(current),
    save(state) {
      current = state;
      return Promise.resolve();
    },
  };
}
