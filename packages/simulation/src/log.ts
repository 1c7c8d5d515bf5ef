/**
 * One request the simulation answered (through the in-process dispatcher or the loopback server).
 * @public
 */
export interface RequestLogEntry {
  /** 1, 2, 3… in arrival order. */
  readonly seq: number;
  /** Arrival time, epoch milliseconds on the simulation clock. */
  readonly time: number;
  /** HTTP method, upper case. */
  readonly method: string;
  /** The full URL as the handlers saw it (on the configured origins), signed-URL values redacted. */
  readonly url: string;
  /** `host[:port]` of {@link RequestLogEntry.url}. */
  readonly host: string;
  /** Path of {@link RequestLogEntry.url} (no query). */
  readonly path: string;
  /** What the request was, e.g. `manifest.get`, `blob.upload.patch`, `token`, `api.versions.list`. */
  operation?: string;
  /** Response status (0 when the connection was reset before a response). */
  status: number;
  /** Request headers, lower-case names; `authorization` is replaced by `<scheme> REDACTED`. */
  readonly requestHeaders: Readonly<Record<string, string>>;
  /** Whether the request carried an `Authorization` header. */
  readonly hadAuthorization: boolean;
  /** Request body bytes the handlers consumed. */
  requestBytes: number;
  /** Response body bytes delivered to the client. */
  responseBytes: number;
  /** Ids of fault rules that fired on this request. */
  readonly faults: string[];
  /** Set when the exchange ended in an error (a reset, an abort). */
  error?: string;
}

/**
 * The request log shared by the dispatcher and the loopback server.
 * @public
 */
export interface RequestLog {
  /** Every entry so far, oldest first (a copy). */
  readonly entries: readonly RequestLogEntry[];
  /** Forgets every entry (sequence numbers keep counting). */
  clear(): void;
  /** Entries matching a predicate. */
  filter(predicate: (entry: RequestLogEntry) => boolean): RequestLogEntry[];
  /** Entries with this operation. */
  byOperation(operation: string): RequestLogEntry[];
}

/**
 * The writable side of the log, used by the serving layer.
 * @internal
 */
export interface WritableRequestLog extends RequestLog {
  /** Appends an entry, assigning its `seq`. */
  append(entry: Omit<RequestLogEntry, 'seq'>): RequestLogEntry;
}

/**
 * Creates an empty request log.
 * @internal
 */
export function createRequestLog(): WritableRequestLog {
  let entries: RequestLogEntry[] = [];
  let seq = 0;
  return {
    get entries() {
      return [...entries];
    },
    clear() {
      entries = [];
    },
    filter: (predicate) => entries.filter(predicate),
    byOperation: (operation) => entries.filter((entry) => entry.operation === operation),
    append(entry) {
      seq += 1;
      const full: RequestLogEntry = { seq, ...entry };
      entries.push(full);
      return full;
    },
  };
}

/**
 * Request headers for the log: lower-case names, `authorization` (and `proxy-authorization`,
 * `cookie`) values redacted to their scheme.
 * @internal
 */
export function redactHeadersForLog(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    if (name === SIMULATION_REQUEST_ID_HEADER) return;
    if (name === 'authorization' || name === 'proxy-authorization') {
      const scheme = value.split(' ', 1)[0] ?? '';
      out[name] = `${scheme} REDACTED`;
    } else if (name === 'cookie') {
      out[name] = 'REDACTED';
    } else {
      out[name] = value;
    }
  });
  return out;
}

/**
 * The internal header the serving layer puts on every request so handlers can annotate its log
 * entry (msw hands handlers a clone of the request).
 * @internal
 */
export const SIMULATION_REQUEST_ID_HEADER = 'x-ghcr-simulation-request';
