import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deletionOrder } from './order.js';

describe('deletionOrder', () => {
  it('puts parents first, lowest id first among the ready', () => {
    const parents: Record<string, string[]> = { c: ['a'], d: ['c', 'b'], b: [], a: [] };
    const key: Record<string, number> = { a: 4, b: 1, c: 3, d: 2 };
    expect(
      deletionOrder(
        ['d', 'c', 'b', 'a'],
        (x) => parents[x] ?? [],
        (x) => key[x] ?? 0,
      ),
    ).toEqual(['b', 'a', 'c', 'd']);
  });

  it('places a cycle as a whole after every parent outside it, and never a bystander early', () => {
    // p → x ⇄ y → z, and q (lowest key) hangs from y.
    const parents: Record<string, string[]> = { x: ['p', 'y'], y: ['x'], z: ['y'], q: ['y'], p: [] };
    const key: Record<string, number> = { q: 0, x: 1, y: 2, z: 3, p: 4 };
    expect(
      deletionOrder(
        ['q', 'x', 'y', 'z', 'p'],
        (x) => parents[x] ?? [],
        (x) => key[x] ?? 0,
      ),
    ).toEqual(['p', 'x', 'y', 'q', 'z']);
  });

  it('inside a cycle, puts an index before what it lists, whatever the keys', () => {
    // s (key 1) is the subject of the fallback index r (key 2) tagged at its fallback tag, and r
    // lists s: r follows s as a referrer, s follows r as a listed manifest.
    const parents: Record<string, string[]> = { r: ['s'], s: ['r'] };
    const listedBy: Record<string, string[]> = { s: ['r'] };
    const key: Record<string, number> = { s: 1, r: 2 };
    const order = (content?: (x: string) => string[]) =>
      deletionOrder(
        ['s', 'r'],
        (x) => parents[x] ?? [],
        (x) => key[x] ?? 0,
        content,
      );
    expect(order()).toEqual(['s', 'r']);
    expect(order((x) => listedBy[x] ?? [])).toEqual(['r', 's']);
  });

  it('orders any random graph so every edge outside a cycle goes parent first', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.array(fc.tuple(fc.nat(29), fc.nat(29)), { maxLength: 60 }),
        (size, edges) => {
          const items = Array.from({ length: size }, (_, i) => `n${i}`);
          const parents = new Map<string, string[]>();
          for (const [from, to] of edges) {
            if (from >= size || to >= size) continue;
            parents.set(`n${to}`, [...(parents.get(`n${to}`) ?? []), `n${from}`]);
          }
          const order = deletionOrder(
            items,
            (x) => parents.get(x) ?? [],
            (x) => Number(x.slice(1)),
          );
          expect([...order].sort()).toEqual([...items].sort());
          const position = new Map(order.map((item, i) => [item, i]));
          const reaches = (from: string, to: string): boolean => {
            const seen = new Set<string>();
            const queue = [from];
            while (queue.length > 0) {
              const next = queue.pop() as string;
              if (next === to) return true;
              if (seen.has(next)) continue;
              seen.add(next);
              for (const [child, list] of parents) if (list.includes(next)) queue.push(child);
            }
            return false;
          };
          for (const [child, list] of parents) {
            for (const parent of list) {
              if (parent === child || reaches(child, parent)) continue;
              expect(position.get(parent) as number).toBeLessThan(position.get(child) as number);
            }
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('handles a chain of 20,000 without overflowing the stack', () => {
    const items = Array.from({ length: 20_000 }, (_, i) => `n${i}`);
    const order = deletionOrder(
      items,
      (x) => (x === 'n0' ? [] : [`n${Number(x.slice(1)) - 1}`]),
      (x) => -Number(x.slice(1)),
    );
    expect(order).toEqual(items);
  });
});
