import { InvalidInputError } from '@ghcr/oci-types';

const UNIT_MS: Record<string, number> = {
  ms: 1,
  millisecond: 1,
  milliseconds: 1,
  s: 1000,
  sec: 1000,
  secs: 1000,
  second: 1000,
  seconds: 1000,
  m: 60_000,
  min: 60_000,
  mins: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
  hrs: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
  w: 604_800_000,
  week: 604_800_000,
  weeks: 604_800_000,
};

const PART = /(\d+(?:\.\d+)?)\s*([a-z]+)/gy;

/**
 * Parses a duration into milliseconds: a number (already milliseconds) or a string of one or more
 * `<number><unit>` parts, e.g. `30d`, `12h`, `1w`, `1d12h`, `90 minutes`, `1.5h`. Units: `ms`, `s`,
 * `m`/`min`, `h`, `d`, `w` (and their spelled-out forms, singular or plural). Case and spaces
 * between parts do not matter. A bare number in a string (`"3600000"`) is milliseconds.
 * @throws InvalidInputError saying what a duration looks like.
 * @public
 */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) {
      throw new InvalidInputError(
        `invalid duration ${value}: a duration in milliseconds is a finite number ≥ 0`,
        {
          input: String(value),
        },
      );
    }
    return value;
  }
  const text = value.trim().toLowerCase();
  if (/^\d+$/.test(text)) return Number(text);
  let total = 0;
  let parts = 0;
  PART.lastIndex = 0;
  let position = 0;
  while (position < text.length) {
    PART.lastIndex = position;
    const match = PART.exec(text);
    const unit = match?.[2] === undefined ? undefined : UNIT_MS[match[2]];
    if (match === null || unit === undefined) {
      throw new InvalidInputError(
        `invalid duration "${value.slice(0, 60)}": write a number and a unit, e.g. 30d, 12h, 1w, 1d12h or 90m (units: ms, s, m, h, d, w), or a number of milliseconds`,
        { input: value.slice(0, 60) },
      );
    }
    total += Number(match[1]) * unit;
    parts += 1;
    position = PART.lastIndex;
    while (text[position] === ' ') position += 1;
  }
  if (parts === 0) {
    throw new InvalidInputError(`invalid duration "": write a number and a unit, e.g. 30d or 12h`, {
      input: '',
    });
  }
  return Math.round(total);
}

/** `90061000` → `1d 1h 1m 1s` (for messages). @internal */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const parts: string[] = [];
  let rest = Math.floor(ms / 1000);
  const days = Math.floor(rest / 86_400);
  rest -= days * 86_400;
  const hours = Math.floor(rest / 3600);
  rest -= hours * 3600;
  const minutes = Math.floor(rest / 60);
  const seconds = rest - minutes * 60;
  if (days > 0) parts.push(`${days}d`);
  if (hours > 0) parts.push(`${hours}h`);
  if (minutes > 0) parts.push(`${minutes}m`);
  if (seconds > 0 || parts.length === 0) parts.push(`${seconds}s`);
  return parts.join(' ');
}
