/** The keys of `T` whose value may be `undefined`. */
type KeysAllowingUndefined<T> = {
  [K in keyof T]-?: undefined extends T[K] ? K : never;
}[keyof T];

/**
 * `T` with every key that may hold `undefined` made optional instead, its value without
 * `undefined`: what `definedProps` returns.
 */
export type DefinedProps<T> = {
  [K in Exclude<keyof T, KeysAllowingUndefined<T>>]: T[K];
} & {
  [K in KeysAllowingUndefined<T>]?: Exclude<T[K], undefined>;
};

/**
 * A copy of `props` without the keys whose value is `undefined`, typed so that it spreads into an
 * object with optional properties under `exactOptionalPropertyTypes`:
 * `{ ...definedProps({ signal: options.signal }) }` instead of
 * `{ ...(options.signal === undefined ? {} : { signal: options.signal }) }`.
 *
 * @param props - an object literal of the properties to pass on.
 * @returns a new object with only the properties whose value is not `undefined`.
 */
export function definedProps<T extends object>(props: T): DefinedProps<T> {
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(props)) if (value !== undefined) result[key] = value;
  return result as DefinedProps<T>;
}
