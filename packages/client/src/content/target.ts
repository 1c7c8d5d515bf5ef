import type { Readable } from 'node:stream';
import type { ParsedManifest } from '@ghcr/manifest';
import { type Descriptor, isManifestMediaType } from '@ghcr/oci-types';
import type { BlobInput, BlobSource } from '../registry/blob-source.js';

/**
 * Options of the reading operations of a target.
 * @public
 */
export interface TargetReadOptions {
  readonly signal?: AbortSignal | undefined;
  /**
   * For `fetch`: the consumer holds at most this many chunks at once (`BlobOpenOptions.recycleAfter`),
   * so a target may read into a ring of reused buffers. A hint: a target may ignore it. If omitted,
   * every chunk is a buffer of its own.
   */
  readonly recycleAfter?: number | undefined;
}

/**
 * Options of {@link Target.push}.
 * @public
 */
export interface TargetPushOptions {
  readonly signal?: AbortSignal | undefined;
  /** Called with the bytes of this content handed on so far (it may go back when a transfer restarts). If omitted, nothing is reported. */
  readonly onProgress?: ((bytesDone: number) => void) | undefined;
  /**
   * A repository on the same registry that has the content: a remote repository mounts it from
   * there (no bytes move) before uploading. Other targets ignore it. If omitted, no mount.
   */
  readonly mountFrom?: string | undefined;
  /**
   * Called once, when every byte of the content has been read and verified while the target
   * still stores it: an OCI layout then syncs the file to disk and renames it into place. A copy
   * gives the blob's place among its `concurrency` transfers to the next blob then, and still
   * waits for `push` to settle before it writes any manifest. A target may never call it (a
   * registry, memory): the push holds its place until it settles. If omitted, nothing is called.
   */
  readonly onContentRead?: (() => void) | undefined;
}

/**
 * Options of {@link Target.tag}.
 * @public
 */
export interface TargetTagOptions {
  readonly signal?: AbortSignal | undefined;
  /** The manifest's exact bytes when the caller has them (saves a fetch). They must hash to the descriptor's digest. If omitted, the target reads them. */
  readonly manifest?: Uint8Array | undefined;
}

/**
 * What {@link Target.push} did: `transferred` (bytes were sent or written) or `mounted` (a
 * remote repository linked the blob from `mountFrom`; no bytes moved).
 * @public
 */
export interface TargetPushResult {
  readonly method: 'transferred' | 'mounted';
}

/**
 * Where a target's content lives, for remote repositories: copies between two repositories of
 * the same registry mount blobs instead of moving them.
 * @public
 */
export interface TargetLocation {
  /** Registry host, e.g. `ghcr.io` or `127.0.0.1:5000`. */
  readonly registry: string;
  readonly repository: string;
}

/**
 * Content-addressed storage that can be read (oras-go's `ReadOnlyTarget`): a registry repository,
 * an OCI image-layout directory, or memory. Manifests and blobs are both content, told apart by
 * the descriptor's media type.
 * @public
 */
export interface ReadOnlyTarget {
  /** What the target is, for messages: `ghcr.io/octo/app`, `oci:/tmp/app`, `memory`. */
  readonly name: string;
  /** Set for a registry repository. */
  readonly location?: TargetLocation;
  /**
   * The descriptor a reference (a tag, or a digest) points at.
   * @throws NotFoundError when nothing has that reference.
   */
  resolve(reference: string, options?: TargetReadOptions): Promise<Descriptor>;
  /** True when the target has the content whole (for an OCI layout: the file exists and verifies). */
  exists(descriptor: Descriptor, options?: TargetReadOptions): Promise<boolean>;
  /**
   * The content as a stream verified against the descriptor's digest and size while it flows: a
   * mismatch errors the stream (DigestMismatchError, `GHCR_SIZE_MISMATCH`) before its last byte.
   */
  fetch(descriptor: Descriptor, options?: TargetReadOptions): Readable;
  /** A manifest with its exact bytes, checked against the descriptor's digest and size. */
  fetchManifest(descriptor: Descriptor, options?: TargetReadOptions): Promise<ParsedManifest>;
  /**
   * The manifest a reference (a tag, or a digest) points at, with its exact bytes, in one step: a
   * registry answers it with one GET where {@link ReadOnlyTarget.resolve} then
   * {@link ReadOnlyTarget.fetchManifest} take a HEAD and a GET. Optional: a copy uses it for its
   * root when present, and the two calls otherwise.
   * @throws NotFoundError when nothing has that reference.
   */
  fetchManifestByReference?(reference: string, options?: TargetReadOptions): Promise<ParsedManifest>;
  /**
   * The content as a re-readable {@link BlobSource} that can start at any byte and is NOT verified
   * here (the receiving side verifies): lets a copy resume an upload without restarting the
   * download. If a target has none, copies read through {@link ReadOnlyTarget.fetch}.
   */
  source?(descriptor: Descriptor): BlobSource;
}

/**
 * A target that can also be written (oras-go's `Target`).
 * @public
 */
export interface Target extends ReadOnlyTarget {
  /**
   * Stores content under its descriptor, checking digest and size: a manifest (by its media type)
   * as exact bytes, anything else as a blob. The caller checks {@link ReadOnlyTarget.exists} first.
   */
  push(descriptor: Descriptor, content: BlobInput, options?: TargetPushOptions): Promise<TargetPushResult>;
  /**
   * True when the target is known to hold nothing yet, so a copy need not ask whether each blob
   * is there (a registry repository that does not exist: its tag list answered 404
   * `NAME_UNKNOWN`). False when it holds something or that is unknown. Optional: a copy asks
   * blob by blob without it.
   */
  isKnownEmpty?(options?: TargetReadOptions): Promise<boolean>;
  /**
   * Points a reference at a manifest the target has. A remote repository or memory target takes a
   * tag; an OCI layout takes an `org.opencontainers.image.ref.name` (or the manifest's digest,
   * which records it in `index.json` without a name). A digest elsewhere is a no-op.
   */
  tag(descriptor: Descriptor, reference: string, options?: TargetTagOptions): Promise<void>;
}

/**
 * True when a descriptor names a manifest (image manifest or index, OCI or Docker).
 * @internal
 */
export function isManifestDescriptor(descriptor: Pick<Descriptor, 'mediaType'>): boolean {
  return isManifestMediaType(descriptor.mediaType);
}
