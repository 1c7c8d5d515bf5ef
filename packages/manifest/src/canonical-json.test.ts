import { InvalidInputError } from '@ghcr/oci-types';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.js';
import { reverseKeys } from './testing/arbitraries.js';

const text = (value: unknown) => new TextDecoder().decode(canonicalJson(value));

describe('canonicalJson', () => {
  it('sorts keys at every depth and writes no whitespace', () => {
    expect(text({ b: 1, a: { d: [3, { z: true, y: null }], c: 'x' } })).toBe(
      '{"a":{"c":"x","d":[3,{"y":null,"z":true}]},"b":1}',
    );
  });

  it('leaves out properties whose value is undefined', () => {
    expect(text({ a: undefined, b: 2 })).toBe('{"b":2}');
  });

  it('writes non-ASCII as UTF-8 and escapes what JSON must', () => {
    const bytes = canonicalJson({ k: 'é"\\\n\u0001' });
    expect(new TextDecoder().decode(bytes)).toBe('{"k":"é\\"\\\\\\n\\u0001"}');
    expect(bytes.byteLength).toBe(new TextDecoder().decode(bytes).length + 1); // é is two bytes
  });

  it('sorts by UTF-16 code units (uppercase before lowercase)', () => {
    expect(text({ b: 1, B: 2, a: 3, _: 4 })).toBe('{"B":2,"_":4,"a":3,"b":1}');
  });

  const refused: [string, unknown, RegExp][] = [
    ['NaN', { size: Number.NaN }, /size is NaN/],
    ['Infinity', [1, Number.POSITIVE_INFINITY], /\[1\] is Infinity/],
    ['a bigint', { n: 1n }, /n is a bigint/],
    ['a function', { f: () => 1 }, /f is a function/],
    ['undefined in an array', { list: [undefined] }, /list\[0\] is undefined/],
    ['a Date', { when: new Date(0) }, /when is a Date/],
    ['a Uint8Array', new Uint8Array(1), /the value is a Uint8Array/],
    ['top-level undefined', undefined, /the value is undefined/],
  ];
  for (const [label, value, message] of refused) {
    it(`refuses ${label}, naming where`, () => {
      expect(() => canonicalJson(value)).toThrow(InvalidInputError);
      expect(() => canonicalJson(value)).toThrow(message);
    });
  }

  it('refuses a cycle but accepts a shared (acyclic) reference', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(() => canonicalJson(cycle)).toThrow(/refers back to itself/);
    const shared = { x: 1 };
    expect(text({ a: shared, b: shared })).toBe('{"a":{"x":1},"b":{"x":1}}');
  });

  it('accepts objects without a prototype', () => {
    const bare = Object.create(null) as Record<string, unknown>;
    bare.k = 'v';
    expect(text(bare)).toBe('{"k":"v"}');
  });

  it('is JSON that parses back to the same value, independent of key order, and a fixed point (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ noUnicodeString: false }), (value) => {
        const bytes = canonicalJson(value);
        const parsed: unknown = JSON.parse(new TextDecoder().decode(bytes));
        expect(parsed).toEqual(JSON.parse(JSON.stringify(value)));
        expect(canonicalJson(parsed)).toEqual(bytes);
        expect(canonicalJson(reverseKeys(value))).toEqual(bytes);
      }),
    );
  });
});
