/**
 * Operation and progress events. Listeners are called synchronously, in the order they were added;
 * a listener that throws does not fail the operation: its error is re-thrown on a later tick (as
 * Node does for an `EventTarget` listener), so it surfaces as an uncaught exception instead of
 * being lost or turning a finished push into a failure.
 */

/**
 * A blob or manifest arrived in a repository.
 * @public
 */
export interface PushedEvent {
  /** `image`: a whole image or artifact (`images.push`), after its tags were set. */
  readonly kind: 'blob' | 'manifest' | 'image';
  /** Registry host, e.g. `ghcr.io`. */
  readonly registry: string;
  readonly repository: string;
  readonly digest: string;
  readonly size: number;
  /** The manifest's media type; for a blob, what the caller said (or `application/octet-stream`). */
  readonly mediaType: string;
  /** Tags the manifest was pushed under (empty for a blob or a push by digest). */
  readonly tags: readonly string[];
  /** How a blob got there: `uploaded`, `mounted` from another repository, or `exists` already. */
  readonly method?: 'uploaded' | 'mounted' | 'exists';
}

/**
 * Tags now point at a manifest.
 * @public
 */
export interface TaggedEvent {
  readonly registry: string;
  readonly repository: string;
  readonly digest: string;
  readonly size: number;
  readonly mediaType: string;
  readonly tags: readonly string[];
}

/**
 * A manifest or a tag went away. For an untag on ghcr.io, `placeholderDigest` is the manifest now
 * on the tag, which the Packages API layer deletes.
 * @public
 */
export interface DeletedEvent {
  readonly kind: 'manifest' | 'tag';
  readonly registry: string;
  readonly repository: string;
  /** The deleted manifest's digest, or the digest the tag pointed at (when known). */
  readonly digest?: string;
  readonly tags: readonly string[];
  readonly placeholderDigest?: string;
}

/**
 * Bytes moved for one blob (emitted at most once per `progressIntervalBytes`, and at the end).
 * @public
 */
export interface ProgressEvent {
  /** `blobs.upload`, `blobs.get`. */
  readonly operation: string;
  readonly registry: string;
  readonly repository: string;
  readonly digest: string;
  /** Bytes confirmed so far. May go back when an upload must restart its session. */
  readonly bytesDone: number;
  /** The blob's size, when known. */
  readonly bytesTotal?: number;
  /** Image operations (`images.push|pull|copy`): blobs and manifests finished so far. */
  readonly itemsDone?: number;
  /** Image operations: blobs and manifests the operation transfers (those already there excluded). */
  readonly itemsTotal?: number;
  /**
   * `archive-layer` while `images.push` reads a docker-archive's layer once, to gzip it and learn
   * the blob's digest (into a new repository, uploading it as it goes): `digest` is then the
   * layer's diff_id and the bytes count the layer as stored in the archive. If omitted, the bytes
   * are the blob's own.
   */
  readonly source?: 'archive-layer';
}

/**
 * An image (a manifest and everything it references) arrived somewhere: `images.copy` between
 * registries or repositories, `images.pull` to an OCI layout.
 * @public
 */
export interface CopiedEvent {
  readonly operation: 'copy' | 'pull';
  /** Where it came from, e.g. `ghcr.io/octo/app:1.0` or `oci:/tmp/app:1.0`. */
  readonly source: string;
  /** Where it went, in the same form. */
  readonly destination: string;
  /** Registry host of the remote side (the destination's for a copy, the source's for a pull). */
  readonly registry: string;
  /** Repository of that remote side. */
  readonly repository: string;
  /** The root manifest copied (the chosen platform's manifest when one was asked for). */
  readonly digest: string;
  readonly size: number;
  readonly mediaType: string;
  /** References it was given at the destination. */
  readonly tags: readonly string[];
  /** Blobs and manifests sent, mounted, and skipped because the destination had them. */
  readonly transferred: number;
  readonly mounted: number;
  readonly skipped: number;
  /** Blob and manifest bytes that moved (mounted and skipped content excluded). */
  readonly bytesTransferred: number;
}

/**
 * A transfer failed part-way and is being tried again: a blob re-fetched after its bytes failed
 * verification, an upload resumed from the session's offset or started over because the registry
 * dropped the session, a manifest or list re-read after its body broke off. For logs (the CLI
 * prints it under `--debug`); the operation goes on.
 * @public
 */
export interface RetryEvent {
  /** `blobs.get`, `blobs.upload`, `manifests.get`, `tags.list`, `images.copy`, … */
  readonly operation: string;
  readonly registry: string;
  readonly repository: string;
  /** The blob or manifest, when there is one. */
  readonly digest?: string;
  /** `refetch`: from byte 0 again; `resume`: from `offset`; `restart`: a new upload session from byte 0. */
  readonly action: 'refetch' | 'resume' | 'restart';
  /** Byte the next attempt starts at. */
  readonly offset: number;
  /** The attempt about to start (2 for the first retry). */
  readonly attempt: number;
  /** One line saying what went wrong and what happens next, secrets redacted. */
  readonly message: string;
}

/**
 * The events a client emits.
 * @public
 */
export interface ClientEventMap {
  pushed: PushedEvent;
  tagged: TaggedEvent;
  deleted: DeletedEvent;
  progress: ProgressEvent;
  copied: CopiedEvent;
  retry: RetryEvent;
}

/**
 * Subscribing to a client's events.
 * @public
 */
export interface ClientEvents {
  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof ClientEventMap>(event: K, listener: (payload: ClientEventMap[K]) => void): () => void;
  /** Removes a listener. */
  off<K extends keyof ClientEventMap>(event: K, listener: (payload: ClientEventMap[K]) => void): void;
  /** Adds a listener called for the next event only. */
  once<K extends keyof ClientEventMap>(event: K, listener: (payload: ClientEventMap[K]) => void): () => void;
}

/**
 * The emitting side, used by the capabilities.
 * @internal
 */
export interface ClientEventEmitter extends ClientEvents {
  emit<K extends keyof ClientEventMap>(event: K, payload: ClientEventMap[K]): void;
  /** True when someone listens (skips building progress payloads nobody reads). */
  has(event: keyof ClientEventMap): boolean;
}

type AnyListener = (payload: never) => void;

/**
 * Creates an emitter (one per client: no state at module scope).
 * @internal
 */
export function createClientEvents(): ClientEventEmitter {
  const listeners = new Map<keyof ClientEventMap, AnyListener[]>();
  const off = (event: keyof ClientEventMap, listener: AnyListener): void => {
    const list = listeners.get(event);
    if (list === undefined) return;
    const index = list.indexOf(listener);
    if (index >= 0) list.splice(index, 1);
  };
  const on = (event: keyof ClientEventMap, listener: AnyListener): (() => void) => {
    const list = listeners.get(event) ?? [];
    list.push(listener);
    listeners.set(event, list);
    return () => off(event, listener);
  };
  return {
    on,
    off,
    once(event, listener) {
      const wrapper = (payload: never): void => {
        off(event, wrapper);
        (listener as AnyListener)(payload);
      };
      return on(event, wrapper);
    },
    emit(event, payload) {
      for (const listener of [...(listeners.get(event) ?? [])]) {
        try {
          (listener as (value: typeof payload) => void)(payload);
        } catch (error) {
          process.nextTick(() => {
            throw error;
          });
        }
      }
    },
    has(event) {
      return (listeners.get(event)?.length ?? 0) > 0;
    },
  };
}
