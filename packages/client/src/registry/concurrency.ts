/**
 * Runs `task` over `items` with at most `limit` in flight; resolves with the results in input
 * order, or rejects with the first failure (tasks already started finish, no new ones start).
 * @internal
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        results[index] = await task(items[index] as T, index);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, () => worker());
  const settled = await Promise.allSettled(workers);
  const rejection = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (rejection !== undefined) throw rejection.reason;
  return results;
}
