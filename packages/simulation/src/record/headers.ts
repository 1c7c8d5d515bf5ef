/**
 * Header normalisation for the recorder and the replayer: undici hands headers over in several
 * shapes (a record, a flat `[name, value, …]` array of strings or Buffers, an iterable of pairs);
 * cassettes store one shape, lower-case names mapped to a string or, when repeated, a string array.
 */

/**
 * Headers as a cassette stores them: lower-case names, a string, or an array when repeated.
 * @public
 */
export type RecordedHeaders = Record<string, string | string[]>;

function append(target: RecordedHeaders, name: string, value: string): void {
  const key = name.toLowerCase();
  const existing = target[key];
  if (existing === undefined) target[key] = value;
  else if (Array.isArray(existing)) existing.push(value);
  else target[key] = [existing, value];
}

function text(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('latin1');
  return String(value);
}

function appendValue(target: RecordedHeaders, name: string, value: unknown): void {
  if (value === undefined || value === null) return;
  if (Array.isArray(value)) {
    for (const item of value) append(target, name, text(item));
  } else {
    append(target, name, text(value));
  }
}

/**
 * Normalises any header shape undici accepts or produces (record, flat array of strings or
 * Buffers, iterable of `[name, value]` pairs, `null`) into {@link RecordedHeaders}.
 * @internal
 */
export function normalizeHeaders(headers: unknown): RecordedHeaders {
  const out: RecordedHeaders = {};
  if (headers === null || headers === undefined) return out;
  if (Array.isArray(headers)) {
    if (headers.length > 0 && Array.isArray(headers[0])) {
      for (const pair of headers as unknown[][]) appendValue(out, text(pair[0]), pair[1]);
      return out;
    }
    for (let i = 0; i + 1 < headers.length; i += 2) appendValue(out, text(headers[i]), headers[i + 1]);
    return out;
  }
  if (typeof headers === 'object' && Symbol.iterator in headers && !(headers instanceof Uint8Array)) {
    for (const pair of headers as Iterable<unknown>) {
      if (Array.isArray(pair)) appendValue(out, text(pair[0]), pair[1]);
    }
    return out;
  }
  if (typeof headers === 'object') {
    for (const [name, value] of Object.entries(headers as Record<string, unknown>)) {
      appendValue(out, name, value);
    }
  }
  return out;
}

/**
 * The first value of a header, or `undefined`.
 * @internal
 */
export function headerValue(headers: RecordedHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Headers as undici's legacy `onHeaders` callback takes them: a flat array of Buffers.
 * @internal
 */
export function toRawHeaders(headers: RecordedHeaders): Buffer[] {
  const raw: Buffer[] = [];
  for (const [name, value] of Object.entries(headers)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      raw.push(Buffer.from(name, 'latin1'), Buffer.from(item, 'latin1'));
    }
  }
  return raw;
}
