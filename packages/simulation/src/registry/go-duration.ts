/**
 * Formats nanoseconds as Go's `time.Duration.String()` does (`880.092µs`, `10.305464ms`,
 * `1m2.5s`), the form GHCR puts in its 429 messages.
 * @internal
 */
export function formatGoDuration(nanoseconds: number): string {
  let ns = Math.max(0, Math.round(nanoseconds));
  if (ns === 0) return '0s';
  const trim = (whole: number, fraction: number, digits: number): string => {
    const f = fraction.toString().padStart(digits, '0').replace(/0+$/, '');
    return f === '' ? String(whole) : `${whole}.${f}`;
  };
  if (ns < 1_000) return `${ns}ns`;
  if (ns < 1_000_000) return `${trim(Math.floor(ns / 1_000), ns % 1_000, 3)}µs`;
  if (ns < 1_000_000_000) return `${trim(Math.floor(ns / 1_000_000), ns % 1_000_000, 6)}ms`;
  let out = '';
  const hours = Math.floor(ns / 3_600_000_000_000);
  ns -= hours * 3_600_000_000_000;
  const minutes = Math.floor(ns / 60_000_000_000);
  ns -= minutes * 60_000_000_000;
  if (hours > 0) out += `${hours}h`;
  if (hours > 0 || minutes > 0) out += `${minutes}m`;
  out += `${trim(Math.floor(ns / 1_000_000_000), ns % 1_000_000_000, 9)}s`;
  return out;
}
