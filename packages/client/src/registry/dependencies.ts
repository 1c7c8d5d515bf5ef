import type { Clock } from '@ghcr/oci-types';
import type { Transport } from '@ghcr/transport';
import type { ClientEventEmitter } from '../events.js';

/**
 * The registry a capability talks to, and how it sends a request there.
 * @internal
 */
export interface RegistryEndpoint {
  /** The registry's host name, as it appears in references and events (`ghcr.io`, `localhost:5000`). */
  readonly host: string;
  /** The registry's base URL, without `/v2` (`https://ghcr.io`). */
  readonly baseUrl: string;
  /** Which registry family answers, for the behaviours that differ (tag deletion, the referrers API). */
  readonly flavor: 'ghcr' | 'distribution';
  /** Sends one request through the client's transport (auth, retries, rate limits, tracing). */
  readonly send: Transport['send'];
}

/**
 * Where a capability reports what it did (`pushed`, `deleted`, `retry`, `progress`, …).
 * @internal
 */
export interface ClientEventSink {
  /** Emits `event` to its listeners. */
  readonly emit: ClientEventEmitter['emit'];
  /** True when someone listens (skips building payloads nobody reads). */
  readonly has: ClientEventEmitter['has'];
}

/**
 * How long to wait before sending a request again: the first wait, doubled on each failure in a row.
 * @internal
 */
export interface BackoffLimits {
  /** The first wait before a resume or a re-read, doubled on each failure in a row. */
  readonly resumeDelayMs: number;
  /** The time source the waits use. */
  readonly clock: Clock;
}

/**
 * How a blob transfer that breaks mid-body is resumed.
 * @internal
 */
export interface ResumeLimits extends BackoffLimits {
  /** Failures in a row after which a transfer gives up. */
  readonly maxResumeAttempts: number;
}

/**
 * How a blob download is resumed, and how often it reports progress.
 * @internal
 */
export interface DownloadLimits extends ResumeLimits {
  /** Bytes between two `progress` events of one blob. */
  readonly progressIntervalBytes: number;
}

/**
 * How blobs are uploaded: when to go chunked, how big a chunk is, how a break is resumed.
 * @internal
 */
export interface UploadLimits extends DownloadLimits {
  /** Blobs up to this size go up in one request; larger ones in chunks. */
  readonly monolithicThreshold: number;
  /** The size of one chunk of a chunked upload. */
  readonly chunkSize: number;
}

/**
 * How manifests are read (and re-read when a body breaks) and how many requests run at once.
 * @internal
 */
export interface ManifestLimits extends BackoffLimits {
  /** The largest manifest body read into memory. */
  readonly maxManifestBytes: number;
  /** Requests run at once by one operation. */
  readonly concurrency: number;
}

/**
 * What tag operations need beyond manifest limits: ids for untag placeholders.
 * @internal
 */
export interface TagLimits extends ManifestLimits {
  /** Makes each untag placeholder unique. If omitted, `crypto.randomUUID`. */
  readonly randomId?: (() => string) | undefined;
}

/**
 * What a copy between two targets reads: manifest size cap, parallelism, progress interval, clock.
 * @internal
 */
export interface CopyLimits {
  /** The largest manifest body read into memory. */
  readonly maxManifestBytes: number;
  /** Blobs copied at once. */
  readonly concurrency: number;
  /** Bytes between two `progress` events of one blob. */
  readonly progressIntervalBytes: number;
  /** The time source of copy retries. */
  readonly clock: Clock;
}

/**
 * Every limit of one client, as the composition root hands them out; each capability declares the
 * part it reads.
 * @internal
 */
export interface RegistryLimits extends UploadLimits, TagLimits, CopyLimits {}

/**
 * What a registry capability is built from: an endpoint, an event sink and the limits `L` it reads.
 * @internal
 */
export interface RegistryDependencies<L = RegistryLimits> {
  /** The registry, and how to send it a request. */
  readonly endpoint: RegistryEndpoint;
  /** Where the capability reports what it did. */
  readonly events: ClientEventSink;
  /** The limits the capability reads. */
  readonly limits: L;
}
