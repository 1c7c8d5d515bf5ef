// Small statistics for a handful of runs.

export function median(values) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** (max − min) / median: how far apart the runs were. */
export function spread(values) {
  if (values.length < 2) return 0;
  return (Math.max(...values) - Math.min(...values)) / median(values);
}

/** Runs are called noisy when they spread over more than this fraction of their median. */
export const NOISY_SPREAD = 0.25;

export const MiB = 1024 * 1024;
export const mibPerSecond = (bytes, ms) => bytes / MiB / (ms / 1000);
