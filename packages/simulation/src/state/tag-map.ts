import type { Digest } from '@ghcr/oci-types';

/**
 * Lexical order, case-insensitive first (distribution-spec "Listing Tags"). A total order: two
 * tags compare equal only when they are the same string.
 * @internal
 */
export function compareTags(a: string, b: string): number {
  const la = a.toLowerCase();
  const lb = b.toLowerCase();
  if (la !== lb) return la < lb ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A repository's tags (tag → manifest digest) that keeps its tag names sorted by
 * {@link compareTags}: sorted once, on the first listing after a tag was added or removed (moving
 * a tag to another digest keeps the order), so paging through N tags costs O(N log N) in all
 * rather than a sort per page.
 * @internal
 */
export class TagMap extends Map<string, Digest> {
  #sorted: readonly string[] | undefined;

  constructor(entries?: Iterable<readonly [string, Digest]>) {
    // Entries are added after `super()`: the Map constructor would call `set` before the private
    // field exists.
    super();
    if (entries !== undefined) for (const [tag, digest] of entries) this.set(tag, digest);
  }

  override set(tag: string, digest: Digest): this {
    if (!this.has(tag)) this.#sorted = undefined;
    return super.set(tag, digest);
  }

  override delete(tag: string): boolean {
    const had = super.delete(tag);
    if (had) this.#sorted = undefined;
    return had;
  }

  override clear(): void {
    super.clear();
    this.#sorted = undefined;
  }

  /** The tag names in {@link compareTags} order. Do not modify the array: it is the cache. */
  sorted(): readonly string[] {
    this.#sorted ??= [...this.keys()].sort(compareTags);
    return this.#sorted;
  }
}

/**
 * The tag names of `tags` in {@link compareTags} order: the cached list of a {@link TagMap}, else
 * (a map built elsewhere) a fresh sort.
 * @internal
 */
export function sortedTags(tags: ReadonlyMap<string, Digest>): readonly string[] {
  return tags instanceof TagMap ? tags.sorted() : [...tags.keys()].sort(compareTags);
}

/**
 * The index of the first tag of `sorted` that comes after `last` in {@link compareTags} order
 * (`sorted.length` when none does); `last` need not be a tag. Binary search: O(log N).
 * @internal
 */
export function indexAfter(sorted: readonly string[], last: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const tag = sorted[middle];
    if (tag !== undefined && compareTags(tag, last) <= 0) low = middle + 1;
    else high = middle;
  }
  return low;
}
