import { ConfigError } from '@ghcr/oci-types';
import type { Handler, PipelineEntry } from './types.js';

/**
 * The default order of the pipeline, outermost first (DESIGN.md, "The request pipeline").
 * `errors` turns a final non-accepted response into a thrown GhcrError so that tracing and
 * metrics, outside it, see the error's code.
 * @public
 */
export const DEFAULT_PIPELINE_ORDER = [
  'tracing',
  'metrics',
  'errors',
  'rate-limit',
  'retry',
  'auth',
  'redirect',
] as const;

/**
 * Where to put a user's middleware: before or after a named layer.
 * @public
 */
export type PipelinePosition = { readonly before: string } | { readonly after: string };

/**
 * Inserts `entry` into `entries` at `position`; returns a new array.
 * @throws ConfigError when the name is taken or the anchor does not exist.
 * @public
 */
export function insertMiddleware(
  entries: readonly PipelineEntry[],
  entry: PipelineEntry,
  position: PipelinePosition,
): PipelineEntry[] {
  if (entries.some((e) => e.name === entry.name)) {
    throw new ConfigError(`middleware "${entry.name}" is already in the pipeline; give yours another name`, {
      field: 'middleware',
    });
  }
  const anchor = 'before' in position ? position.before : position.after;
  const index = entries.findIndex((e) => e.name === anchor);
  if (index < 0) {
    throw new ConfigError(
      `cannot place middleware "${entry.name}" next to "${anchor}": the pipeline has ${entries.map((e) => e.name).join(', ')}`,
      { field: 'middleware' },
    );
  }
  const at = 'before' in position ? index : index + 1;
  return [...entries.slice(0, at), entry, ...entries.slice(at)];
}

/**
 * Composes `entries` (outermost first) around `terminal`. The first entry sees the request first
 * and the response last; unlike undici's `compose`, the order you read is the order that runs.
 * @throws ConfigError on duplicate names.
 * @public
 */
export function composePipeline(entries: readonly PipelineEntry[], terminal: Handler): Handler {
  const seen = new Set<string>();
  for (const { name } of entries) {
    if (seen.has(name))
      throw new ConfigError(`duplicate middleware name "${name}" in the pipeline`, { field: 'middleware' });
    seen.add(name);
  }
  return entries.reduceRight<Handler>((next, entry) => entry.middleware(next), terminal);
}
