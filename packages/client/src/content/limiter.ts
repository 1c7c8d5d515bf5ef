/**
 * A counting semaphore: `run(task)` starts `task` when fewer than `limit` are running, in the
 * order asked. One per operation (no module state).
 * @internal
 */
export function createLimiter(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  const size = Math.max(1, Math.floor(limit));
  let running = 0;
  const waiting: (() => void)[] = [];
  const release = (): void => {
    running -= 1;
    const next = waiting.shift();
    if (next !== undefined) {
      running += 1;
      next();
    }
  };
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (running >= size) {
      await new Promise<void>((resolve) => waiting.push(resolve));
    } else {
      running += 1;
    }
    try {
      return await task();
    } finally {
      release();
    }
  };
}
