/**
 * One request of a registry's access log.
 * @internal
 */
export interface AccessLogEntry {
  /** `GET`, `PUT`, … */
  readonly method: string;
  /** The request target: path and query. */
  readonly path: string;
  /** The response status. */
  readonly status: number;
  /** Response body bytes (`-` in the log counts as 0). */
  readonly bytes: number;
}

// The request, status and size fields of the combined log format distribution writes:
// `… "GET /v2/ HTTP/1.1" 200 2 "" "agent"`.
const ACCESS_LINE = /"([A-Z]+) (\S+) HTTP\/[\d.]+" (\d{3}) (\d+|-)/;

/**
 * The requests of a combined-format access log, in order; lines that are not requests (the
 * registry's own log lines) are passed over.
 * @internal
 */
export function parseAccessLog(text: string): AccessLogEntry[] {
  const entries: AccessLogEntry[] = [];
  for (const line of text.split('\n')) {
    const match = ACCESS_LINE.exec(line);
    if (match === null) continue;
    const [, method = '', path = '', status = '0', bytes = '-'] = match;
    entries.push({ method, path, status: Number(status), bytes: bytes === '-' ? 0 : Number(bytes) });
  }
  return entries;
}
