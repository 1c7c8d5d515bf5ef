/**
 * How alike two recorded requests are, for naming the closest one when a replay finds no match.
 */

const MAX_COMPARED_CHARACTERS = 512;

/**
 * Levenshtein distance over the first 512 characters of each string (two rows, O(n·m)).
 * @internal
 */
export function editDistance(a: string, b: string): number {
  const left = a.slice(0, MAX_COMPARED_CHARACTERS);
  const right = b.slice(0, MAX_COMPARED_CHARACTERS);
  if (left === right) return 0;
  let previous = Array.from({ length: right.length + 1 }, (_, index) => index);
  let current = new Array<number>(right.length + 1).fill(0);
  for (let i = 1; i <= left.length; i++) {
    current[0] = i;
    for (let j = 1; j <= right.length; j++) {
      const cost = left[i - 1] === right[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    [previous, current] = [current, previous];
  }
  return previous[right.length] ?? 0;
}

/**
 * A similarity score in [0, 1] for two requests: 0.3 for the same method, plus 0.7 times the
 * URL similarity (1 − normalised edit distance).
 * @internal
 */
export function requestSimilarity(
  a: { readonly method: string; readonly url: string },
  b: { readonly method: string; readonly url: string },
): number {
  const longest = Math.max(a.url.length, b.url.length, 1);
  const urlSimilarity = 1 - editDistance(a.url, b.url) / Math.min(longest, MAX_COMPARED_CHARACTERS);
  const methodScore = a.method === b.method ? 0.3 : 0;
  return methodScore + 0.7 * Math.max(0, urlSimilarity);
}
