/**
 * Token scopes of the Docker token protocol: `repository:<name>:pull,push`.
 *
 * Grammar (distribution `docs/spec/auth/scope.md`):
 * `scope := resourcetype ":" resourcename ":" action [ "," action ]*`. The resource name may hold a
 * `host:port/` prefix, so the type ends at the first `:` and the actions start after the last one.
 */

import { InvalidInputError } from '@ghcr/oci-types';

/**
 * One parsed scope: a resource and the actions wanted on it.
 * @public
 */
export interface Scope {
  /** The resource type, e.g. `repository`, `registry`, or `repository(plugin)`. */
  readonly type: string;
  /** The resource name, e.g. `octo-org/app` or `catalog`. */
  readonly name: string;
  /** The actions, in canonical order (see {@link formatScope}), without duplicates. */
  readonly actions: readonly string[];
}

/**
 * A scope given either as a string (`repository:o/n:pull`) or as a {@link Scope}.
 * @public
 */
export type ScopeInput = string | Scope;

const ACTION_RANK: Readonly<Record<string, number>> = { '*': 0, pull: 1, push: 2, delete: 3 };

function compareActions(a: string, b: string): number {
  const rankA = ACTION_RANK[a] ?? 9;
  const rankB = ACTION_RANK[b] ?? 9;
  if (rankA !== rankB) return rankA - rankB;
  return a < b ? -1 : a > b ? 1 : 0;
}

function canonicalActions(actions: Iterable<string>): string[] {
  return [...new Set(actions)].filter((action) => action !== '').sort(compareActions);
}

const TYPE_PATTERN = /^[a-z0-9]+(?:\([a-z0-9]+\))?$/i;

/**
 * Parses one scope string such as `repository:octo-org/app:pull,push` or
 * `repository:localhost:5000/app:pull`. Throws `InvalidInputError` when the string is not
 * `type:name:actions`.
 * @public
 */
export function parseScope(scope: string): Scope {
  const trimmed = scope.trim();
  const first = trimmed.indexOf(':');
  const last = trimmed.lastIndexOf(':');
  if (first <= 0 || last === first || last === trimmed.length - 1) {
    throw new InvalidInputError(
      `invalid token scope "${trimmed}": expected "<type>:<name>:<actions>", e.g. "repository:octo-org/app:pull"`,
      { input: trimmed },
    );
  }
  const type = trimmed.slice(0, first);
  const name = trimmed.slice(first + 1, last);
  if (!TYPE_PATTERN.test(type) || name === '' || /\s/.test(name)) {
    throw new InvalidInputError(
      `invalid token scope "${trimmed}": the resource type must be a word like "repository" and the name must not be empty`,
      { input: trimmed },
    );
  }
  const actions = canonicalActions(trimmed.slice(last + 1).split(','));
  if (actions.length === 0) {
    throw new InvalidInputError(`invalid token scope "${trimmed}": no action (expected e.g. "pull")`, {
      input: trimmed,
    });
  }
  return { type, name, actions };
}

/**
 * Parses a space-separated list of scopes, as found in a Bearer challenge's `scope` parameter
 * (`scope="repository:a:pull repository:b:pull,push"`). An empty string gives `[]`.
 * @public
 */
export function parseScopes(scopes: string): Scope[] {
  return scopes
    .split(/\s+/)
    .filter((part) => part !== '')
    .map(parseScope);
}

/**
 * Formats a scope as `type:name:actions`, actions in canonical order: `*`, `pull`, `push`,
 * `delete`, then any others alphabetically.
 * @public
 */
export function formatScope(scope: ScopeInput): string {
  const parsed = typeof scope === 'string' ? parseScope(scope) : scope;
  return `${parsed.type}:${parsed.name}:${canonicalActions(parsed.actions).join(',')}`;
}

/**
 * Builds a `repository:<name>:<actions>` scope.
 * @example repositoryScope('octo-org/app', ['push']) // repository:octo-org/app:push
 * @public
 */
export function repositoryScope(name: string, actions: readonly string[]): Scope {
  return parseScope(`repository:${name}:${actions.join(',')}`);
}

/**
 * Merges scopes: the actions of every scope on the same resource (type + name) are united, so
 * `repository:a:pull` + `repository:a:push` give `repository:a:pull,push`. The result is sorted by
 * type, then name, so equal sets give equal output whatever the input order.
 * @public
 */
export function mergeScopes(scopes: Iterable<ScopeInput>): Scope[] {
  const byResource = new Map<string, { type: string; name: string; actions: Set<string> }>();
  for (const input of scopes) {
    const scope = typeof input === 'string' ? parseScope(input) : input;
    const resource = `${scope.type}:${scope.name}`;
    let entry = byResource.get(resource);
    if (entry === undefined) {
      entry = { type: scope.type, name: scope.name, actions: new Set() };
      byResource.set(resource, entry);
    }
    for (const action of scope.actions) entry.actions.add(action);
  }
  return [...byResource.values()]
    .map((entry) => ({ type: entry.type, name: entry.name, actions: canonicalActions(entry.actions) }))
    .sort((a, b) => (a.type === b.type ? compareStrings(a.name, b.name) : compareStrings(a.type, b.type)));
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A stable string naming a set of scopes: the merged, sorted scopes joined by a space. Two inputs
 * asking for the same actions on the same resources give the same key.
 * @public
 */
export function scopesKey(scopes: Iterable<ScopeInput>): string {
  return mergeScopes(scopes).map(formatScope).join(' ');
}

/**
 * True when a token granted `granted` also allows everything in `requested`: each requested
 * resource is granted with every requested action, or with `*`.
 * @public
 */
export function scopesCover(granted: Iterable<ScopeInput>, requested: Iterable<ScopeInput>): boolean {
  const grantedByResource = new Map<string, ReadonlySet<string>>();
  for (const scope of mergeScopes(granted)) {
    grantedByResource.set(`${scope.type}:${scope.name}`, new Set(scope.actions));
  }
  for (const scope of mergeScopes(requested)) {
    const actions = grantedByResource.get(`${scope.type}:${scope.name}`);
    if (actions === undefined) return false;
    if (actions.has('*')) continue;
    if (!scope.actions.every((action) => actions.has(action))) return false;
  }
  return true;
}
