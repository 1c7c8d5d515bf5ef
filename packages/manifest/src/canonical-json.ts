import { InvalidInputError } from '@ghcr/oci-types';

/*
 * Canonical JSON, as this package writes every manifest it builds:
 * - object keys sorted by UTF-16 code units (JavaScript's default sort), at every depth;
 * - no insignificant whitespace;
 * - strings escaped as JSON.stringify escapes them (only `"`, `\` and control characters; other
 *   characters are written as UTF-8);
 * - numbers as JSON.stringify writes them (finite numbers only);
 * - object properties whose value is `undefined` are left out (so optional fields can be passed
 *   as undefined); anything else that is not JSON is refused.
 * The same value always gives the same bytes, whatever order its keys were set in, so building a
 * manifest twice gives one digest.
 */

function fail(path: string, problem: string): never {
  throw new InvalidInputError(`cannot write canonical JSON: ${path === '' ? 'the value' : path} ${problem}`);
}

function write(value: unknown, path: string, seen: Set<object>): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) fail(path, `is ${value}, which JSON cannot represent`);
      return JSON.stringify(value);
    case 'object': {
      if (value === null) return 'null';
      if (seen.has(value)) fail(path, 'refers back to itself');
      seen.add(value);
      let out: string;
      if (Array.isArray(value)) {
        out = `[${value
          .map((item: unknown, position) => {
            if (item === undefined) fail(`${path}[${position}]`, 'is undefined, which JSON cannot represent');
            return write(item, `${path}[${position}]`, seen);
          })
          .join(',')}]`;
      } else {
        const prototype: unknown = Object.getPrototypeOf(value);
        if (prototype !== Object.prototype && prototype !== null) {
          fail(
            path,
            `is a ${value.constructor?.name ?? 'non-plain object'}; only plain objects and arrays are JSON`,
          );
        }
        const record = value as Record<string, unknown>;
        const keys = Object.keys(record)
          .filter((key) => record[key] !== undefined)
          .sort();
        out = `{${keys
          .map(
            (key) =>
              `${JSON.stringify(key)}:${write(record[key], path === '' ? key : `${path}.${key}`, seen)}`,
          )
          .join(',')}}`;
      }
      seen.delete(value);
      return out;
    }
    default:
      return fail(
        path,
        `is ${typeof value === 'undefined' ? 'undefined' : `a ${typeof value}`}, which JSON cannot represent`,
      );
  }
}

/**
 * Serialises a JSON value canonically (sorted keys at every depth, no insignificant whitespace,
 * UTF-8) and returns the bytes. The same value always gives the same bytes, whatever order its
 * keys were set in. Properties whose value is `undefined` are left out.
 * @throws InvalidInputError naming the path of a value JSON cannot represent (NaN, Infinity, a
 * bigint, a function, a symbol, `undefined` in an array, a class instance, a cycle).
 * @public
 */
export function canonicalJson(value: unknown): Uint8Array {
  return new TextEncoder().encode(write(value, '', new Set()));
}
