import { describe, expect, expectTypeOf, it } from 'vitest';
import { definedProps } from './defined-props.js';

describe('definedProps', () => {
  it('drops the keys whose value is undefined, and keeps every other value (null, 0, false, "")', () => {
    const signal: AbortSignal | undefined = undefined;
    const result = definedProps({ signal, a: null, b: 0, c: false, d: '', e: 'x' });
    expect(result).toEqual({ a: null, b: 0, c: false, d: '', e: 'x' });
    expect(Object.hasOwn(result, 'signal')).toBe(false);
  });

  it('returns a new object, and types a possibly-undefined key as optional without undefined', () => {
    const input = { tag: 'v1' as string | undefined, size: 3 };
    const result = definedProps(input);
    expect(result).not.toBe(input);
    expect(result).toEqual({ tag: 'v1', size: 3 });
    expectTypeOf(result).toEqualTypeOf<{ size: number } & { tag?: string }>();
  });
});
