import type { Digest } from '@ghcr/oci-types';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../faults/seeded-random.js';
import { compareTags, indexAfter, sortedTags, TagMap } from './tag-map.js';

const ONE = `sha256:${'1'.repeat(64)}` as Digest;
const TWO = `sha256:${'2'.repeat(64)}` as Digest;

/** The listing as it was before the cache: sort every tag, keep those after `last`. */
function referencePage(tags: readonly string[], last: string | undefined): string[] {
  const sorted = [...tags].sort(compareTags);
  return last === undefined ? sorted : sorted.filter((tag) => compareTags(tag, last) > 0);
}

describe('TagMap', () => {
  it('sorts once and reuses the list until a tag is added or removed', () => {
    const tags = new TagMap([
      ['b', ONE],
      ['A', ONE],
    ]);
    const first = tags.sorted();
    expect(first).toEqual(['A', 'b']);
    expect(tags.sorted()).toBe(first);
    // Moving a tag to another digest keeps the order, and the cache.
    tags.set('b', TWO);
    expect(tags.sorted()).toBe(first);
    tags.set('a1', ONE);
    const second = tags.sorted();
    expect(second).not.toBe(first);
    expect(second).toEqual(['A', 'a1', 'b']);
    expect(tags.delete('missing')).toBe(false);
    expect(tags.sorted()).toBe(second);
    expect(tags.delete('A')).toBe(true);
    expect(tags.sorted()).toEqual(['a1', 'b']);
    tags.clear();
    expect(tags.sorted()).toEqual([]);
  });

  it('is a Map: constructor entries, get, size and iteration', () => {
    const tags = new TagMap([
      ['v1', ONE],
      ['v2', TWO],
    ]);
    expect(tags).toBeInstanceOf(Map);
    expect(tags.size).toBe(2);
    expect(tags.get('v2')).toBe(TWO);
    expect([...tags]).toEqual([
      ['v1', ONE],
      ['v2', TWO],
    ]);
  });

  it('sortedTags sorts a plain Map too', () => {
    expect(
      sortedTags(
        new Map([
          ['c', ONE],
          ['B', ONE],
          ['a', ONE],
        ]),
      ),
    ).toEqual(['a', 'B', 'c']);
  });
});

describe('indexAfter', () => {
  const sorted = ['A', 'a1', 'b', 'c', 'D'];
  it.each([
    ['a1', 2],
    ['a2', 2], // between two tags
    ['B', 2], // same letters as a tag, other case: B sorts before b
    ['b', 3],
    ['0', 0], // before every tag
    ['z', 5], // after every tag
    ['D', 5],
  ])('after %s starts at %i', (last, index) => {
    expect(indexAfter(sorted, last)).toBe(index);
    expect(sorted.slice(indexAfter(sorted, last))).toEqual(referencePage(sorted, last));
  });

  it('is 0 in an empty list', () => {
    expect(indexAfter([], 'x')).toBe(0);
  });

  it('agrees with sorting and filtering on random tag sets and random `last` values', () => {
    const random = seededRandom(7);
    const alphabet = 'aAbB0._-zZ';
    const word = () =>
      Array.from(
        { length: 1 + Math.floor(random() * 4) },
        () => alphabet[Math.floor(random() * alphabet.length)],
      ).join('');
    for (let round = 0; round < 200; round++) {
      const tags = new TagMap();
      for (let i = Math.floor(random() * 30); i > 0; i--) tags.set(word(), ONE);
      const last = word();
      const sorted = tags.sorted();
      expect(sorted.slice(indexAfter(sorted, last))).toEqual(referencePage([...tags.keys()], last));
    }
  });
});
