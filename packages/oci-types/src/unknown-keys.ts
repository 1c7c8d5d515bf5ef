import { ConfigError } from './errors.js';

/** What a zod `unrecognized_keys` issue says (zod's own type is not imported: any zod 4 issue fits). */
interface UnrecognizedKeysIssue {
  readonly keys: readonly string[];
  readonly path: readonly PropertyKey[];
}

interface SchemaDefinition {
  readonly type?: string;
  readonly shape?: Record<string, unknown>;
  readonly innerType?: unknown;
  readonly in?: unknown;
  readonly element?: unknown;
  readonly valueType?: unknown;
}

const definitionOf = (schema: unknown): SchemaDefinition | undefined =>
  (schema as { _zod?: { def?: SchemaDefinition } } | undefined)?._zod?.def;

const WRAPPERS = new Set(['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch', 'nonoptional']);

/** The schema under its wrappers (`.optional()`, `.default()`, a transform's input). */
function unwrap(schema: unknown): unknown {
  let current = schema;
  for (let depth = 0; depth < 16; depth += 1) {
    const definition = definitionOf(current);
    if (definition?.type !== undefined && WRAPPERS.has(definition.type)) current = definition.innerType;
    else if (definition?.type === 'pipe') current = definition.in;
    else return current;
  }
  return current;
}

/**
 * The keys of the object schema found at `path` inside `schema` (a zod 4 schema), or none when
 * there is no object schema there.
 */
function knownKeysAt(schema: unknown, path: readonly PropertyKey[]): string[] {
  let current = unwrap(schema);
  for (const segment of path) {
    const definition = definitionOf(current);
    if (definition?.type === 'object') current = unwrap(definition.shape?.[String(segment)]);
    else if (definition?.type === 'array') current = unwrap(definition.element);
    else if (definition?.type === 'record') current = unwrap(definition.valueType);
    else return [];
  }
  const definition = definitionOf(current);
  return definition?.type === 'object' ? Object.keys(definition.shape ?? {}) : [];
}

/** Optimal-string-alignment distance (Levenshtein plus adjacent transpositions). */
function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number): number => rows[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i += 1) {
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, at(i - 2, j - 2) + 1);
      const row = rows[i];
      if (row !== undefined) row[j] = best;
    }
  }
  return at(a.length, b.length);
}

/**
 * The valid name `name` is an obvious typo of: the same name in another case, or one at most two
 * edits away (one for names of up to five characters). Undefined when none is, or when two are
 * equally close.
 * @internal
 */
export function closestName(name: string, candidates: Iterable<string>): string | undefined {
  const lower = name.toLowerCase();
  const limit = name.length <= 5 ? 1 : 2;
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  let tie = false;
  for (const candidate of candidates) {
    const distance = candidate.toLowerCase() === lower ? 0 : editDistance(lower, candidate.toLowerCase());
    if (distance > limit) continue;
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
      tie = false;
    } else if (distance === bestDistance) tie = true;
  }
  return tie ? undefined : best;
}

/**
 * The {@link ConfigError} for option keys a strict zod object schema did not recognise: it names
 * each unknown key with its path (`retry.maxRetry`), suggests the valid key it is an obvious typo
 * of, and lists the valid keys. `subject` says what the options belong to (`transport option`,
 * `simulation option`, `retention policy field`).
 * @internal
 */
export function unknownKeysError(
  subject: string,
  schema: unknown,
  issue: UnrecognizedKeysIssue,
  cause: unknown,
): ConfigError {
  const known = knownKeysAt(schema, issue.path);
  const prefix = issue.path.length === 0 ? '' : `${issue.path.map(String).join('.')}.`;
  const named = issue.keys.map((key) => {
    const suggestion = closestName(key, known);
    return `"${prefix}${key}"${suggestion === undefined ? '' : ` (did you mean "${prefix}${suggestion}"?)`}`;
  });
  const plural = issue.keys.length === 1 ? '' : 's';
  const valid = known.length === 0 ? 'check the spelling' : `the valid ones are ${known.join(', ')}`;
  return new ConfigError(`unknown ${subject}${plural} ${named.join(', ')}: ${valid}`, {
    field: `${prefix}${issue.keys[0] ?? ''}`,
    cause,
  });
}
