import { ConfigError } from '@ghcr/oci-types';
import { seededRandom } from './seeded-random.js';

/**
 * What a fault does.
 * - `status`: answer with this status instead of calling the handlers (body: a registry error
 *   body, or a GitHub API body for `api.*` operations, unless `body` is given); `retryAfter`
 *   (seconds, or an HTTP date string) sets `Retry-After`.
 * - `reset`: drop the connection. `phase: 'response'` (default) after `afterBytes` response body
 *   bytes (0 or omitted: before any response); `phase: 'request'` after the handler has consumed
 *   `afterBytes` request body bytes (mid-upload).
 * - `truncate`: end the response body cleanly after `afterBytes` bytes (Content-Length removed).
 * - `corrupt`: flip the bits of `length` bytes (default 1) at `offset` (default 0) of the body, so
 *   its digest no longer matches; the length is unchanged.
 * - `delay`: wait `ms` on the simulation clock before answering (combinable with the others).
 * @public
 */
export type FaultAction =
  | {
      readonly type: 'status';
      readonly status: number;
      readonly retryAfter?: number | string;
      readonly body?: string;
      readonly headers?: Readonly<Record<string, string>>;
    }
  | { readonly type: 'reset'; readonly phase?: 'request' | 'response'; readonly afterBytes?: number }
  | { readonly type: 'truncate'; readonly afterBytes: number }
  | { readonly type: 'corrupt'; readonly offset?: number; readonly length?: number }
  | { readonly type: 'delay'; readonly ms: number };

/**
 * A fault rule: which requests it matches and what it does to them. Every selector is optional;
 * a rule with none matches every request.
 * @public
 */
export interface FaultRule {
  /** Methods to match (upper case). If omitted, any. */
  readonly method?: string | readonly string[];
  /** Tested against the URL path (no query). A string is compiled as a RegExp. If omitted, any. */
  readonly path?: RegExp | string;
  /** `host[:port]` as the handlers see it (`ghcr.io`, `api.github.com`). If omitted, any. */
  readonly host?: string;
  /** Operation names (`manifest.get`, `blob.upload.patch`, `token`, …). If omitted, any. */
  readonly operation?: string | readonly string[];
  /** Fire from the nth matching request on (1-based). If omitted, 1. */
  readonly nth?: number;
  /** Fire at most this many times. If omitted: once when `nth` is given, else every time. */
  readonly count?: number;
  /** Chance (0–1) of firing on an eligible request, drawn from the injector's seeded generator. If omitted, 1. */
  readonly probability?: number;
  /** What to do. */
  readonly action: FaultAction;
}

/**
 * A rule as the injector holds it.
 * @public
 */
export interface ActiveFault extends FaultRule {
  readonly id: string;
  /** Matching requests seen so far. */
  readonly seen: number;
  /** Times it fired. */
  readonly fired: number;
}

/**
 * The request facts fault rules match on.
 * @internal
 */
export interface FaultTarget {
  readonly method: string;
  readonly url: URL;
  readonly operation: string | undefined;
}

/**
 * Seedable, per-route fault rules, applied by the in-process dispatcher and the loopback server
 * alike.
 * @public
 */
export interface FaultInjector {
  /** Adds a rule; returns its id. */
  add(rule: FaultRule): string;
  /** Removes a rule; false when unknown. */
  remove(id: string): boolean;
  /** Removes every rule. */
  clear(): void;
  /** The rules with their counters. */
  readonly rules: readonly ActiveFault[];
  /** Reseeds the generator used by `probability` (default seed 1). */
  seed(value: number): void;
  /** Counts the request against every rule and returns the actions that fire, in rule order. @internal */
  evaluate(target: FaultTarget): { readonly id: string; readonly action: FaultAction }[];
}

interface MutableFault extends FaultRule {
  readonly id: string;
  readonly pattern: RegExp | undefined;
  seen: number;
  fired: number;
}

function list(value: string | readonly string[] | undefined): readonly string[] | undefined {
  return value === undefined ? undefined : typeof value === 'string' ? [value] : value;
}

/**
 * Creates an empty injector.
 * @internal
 */
export function createFaultInjector(): FaultInjector {
  let rules: MutableFault[] = [];
  let nextId = 1;
  let random = seededRandom(1);
  return {
    add(rule) {
      if (rule.nth !== undefined && (!Number.isInteger(rule.nth) || rule.nth < 1)) {
        throw new ConfigError(`fault rule "nth" must be an integer from 1, got ${rule.nth}`, {
          field: 'nth',
        });
      }
      if (rule.probability !== undefined && (rule.probability < 0 || rule.probability > 1)) {
        throw new ConfigError(`fault rule "probability" must be between 0 and 1, got ${rule.probability}`, {
          field: 'probability',
        });
      }
      let pattern: RegExp | undefined;
      try {
        pattern =
          rule.path === undefined
            ? undefined
            : typeof rule.path === 'string'
              ? new RegExp(rule.path)
              : rule.path;
      } catch (error) {
        throw new ConfigError(`fault rule "path" is not a valid regular expression: ${String(rule.path)}`, {
          field: 'path',
          cause: error,
        });
      }
      const id = `fault-${nextId++}`;
      rules.push({ ...rule, id, pattern, seen: 0, fired: 0 });
      return id;
    },
    remove(id) {
      const before = rules.length;
      rules = rules.filter((rule) => rule.id !== id);
      return rules.length !== before;
    },
    clear() {
      rules = [];
    },
    get rules() {
      return rules.map(({ pattern: _pattern, ...rule }) => ({ ...rule }));
    },
    seed(value) {
      random = seededRandom(value);
    },
    evaluate(target) {
      const out: { id: string; action: FaultAction }[] = [];
      for (const rule of rules) {
        const methods = list(rule.method);
        if (methods !== undefined && !methods.includes(target.method)) continue;
        const operations = list(rule.operation);
        if (
          operations !== undefined &&
          (target.operation === undefined || !operations.includes(target.operation))
        )
          continue;
        if (rule.host !== undefined && rule.host !== target.url.host) continue;
        if (rule.pattern !== undefined && !rule.pattern.test(target.url.pathname)) continue;
        rule.seen += 1;
        const nth = rule.nth ?? 1;
        const count = rule.count ?? (rule.nth === undefined ? Number.POSITIVE_INFINITY : 1);
        if (rule.seen < nth || rule.fired >= count) continue;
        if (rule.probability !== undefined && random() >= rule.probability) continue;
        rule.fired += 1;
        out.push({ id: rule.id, action: rule.action });
      }
      return out;
    },
  };
}
