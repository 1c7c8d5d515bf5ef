import type { Digest } from '@ghcr/oci-types';
import type { BlobWriter } from './blob-store.js';

/**
 * A classic personal-access-token scope the simulation understands. `write:packages` implies
 * `read:packages`, as on GitHub.
 * @public
 */
export type PackageScope = 'read:packages' | 'write:packages' | 'delete:packages';

/** Every {@link PackageScope}. @public */
export const PACKAGE_SCOPES: readonly PackageScope[] = ['read:packages', 'write:packages', 'delete:packages'];

/**
 * Package visibility in the simulation (GitHub's `internal` is not modelled).
 * @public
 */
export type SimulationVisibility = 'public' | 'private';

/**
 * A GitHub account: a user or an organisation.
 * @public
 */
export interface OwnerRecord {
  /** Numeric id, unique among owners, assigned in creation order. */
  readonly id: number;
  /** Login, as given (GitHub logins are case-insensitive; the simulation keys them lower-cased). */
  readonly login: string;
  /** `User` or `Organization` (the spelling of GitHub's `type` field). */
  readonly type: 'User' | 'Organization';
  /** Organisations: logins of the users who administer it (and its packages). Empty for users. */
  readonly admins: string[];
  /** Epoch milliseconds on the simulation clock. */
  readonly createdAt: number;
}

/**
 * A personal access token (classic) and what it grants.
 * @public
 */
export interface PatRecord {
  /** The token itself (`ghp_…`). Never log it. */
  readonly token: string;
  /** The login of the user the token belongs to. */
  readonly user: string;
  /** Granted scopes. */
  readonly scopes: readonly PackageScope[];
  /** Epoch milliseconds. */
  readonly createdAt: number;
}

/**
 * Something a manifest refers to: its config, a layer, a child manifest or its subject.
 * @public
 */
export interface ManifestReference {
  readonly role: 'config' | 'layer' | 'manifest' | 'subject';
  readonly digest: Digest;
  readonly mediaType: string;
  readonly size: number;
}

/**
 * A manifest stored in a repository; on GitHub, also a **package version**. The bytes are kept
 * exactly as pushed. Treat as read-only: mutate only through {@link SimulationState} methods.
 * @public
 */
export interface ManifestRecord {
  /** The digest of {@link ManifestRecord.bytes} (sha256 unless pushed under another algorithm). */
  readonly digest: Digest;
  /** The media type the manifest was pushed with (its `Content-Type`). */
  readonly mediaType: string;
  /** `bytes.byteLength`. */
  readonly size: number;
  /** The exact bytes that were pushed. */
  readonly bytes: Uint8Array;
  /** `artifactType` (or, for an image manifest without one, the config media type), for the referrers API. */
  readonly artifactType?: string;
  /** The manifest's top-level annotations, for the referrers API. */
  readonly annotations?: Readonly<Record<string, string>>;
  /** The digest of the `subject` descriptor, when the manifest has one. */
  readonly subject?: Digest;
  /** Config, layers, child manifests and subject, in document order. */
  readonly references: readonly ManifestReference[];
  /** The package version id (numeric, assigned in creation order, unique in the simulation). */
  readonly versionId: number;
  /** Epoch milliseconds of the first push of these bytes to this repository. */
  readonly createdAt: number;
  /** Epoch milliseconds of the last push or tag change touching this manifest. */
  updatedAt: number;
  /** Set while the version is deleted (restorable for 30 days); absent when active. */
  deletedAt?: number;
  /** Manifest GETs counted as downloads (ghcr: every manifest GET). */
  downloadCount: number;
  /** Tags that pointed at this manifest when its version was deleted; restored with it when free. */
  deletedTags: string[];
}

/**
 * The container package of a repository `<owner>/<name>` (GitHub's view of it).
 * @public
 */
export interface PackageRecord {
  /** Numeric package id, unique in the simulation. */
  readonly id: number;
  /** The owner's login. */
  readonly owner: string;
  /** The package name: the repository path without the owner (may contain `/`). */
  readonly name: string;
  /** `public` or `private`. */
  visibility: SimulationVisibility;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  /** Epoch milliseconds of the last change (push, delete or restore of a version). */
  updatedAt: number;
  /** Set while the whole package is deleted (restorable for 30 days while the name is not reused). */
  deletedAt?: number;
}

/**
 * A chunked or streamed upload in progress.
 * @public
 */
export interface UploadSession {
  /** Opaque id used in the upload URL. */
  readonly id: string;
  /** The repository the upload belongs to. */
  readonly repository: string;
  /** Epoch milliseconds. */
  readonly startedAt: number;
  /** Where the bytes go; `writer.size` is the current offset. */
  readonly writer: BlobWriter;
  /** Serialises requests on this session; handlers chain on it. */
  queue: Promise<void>;
  /** Set once the session is finished or cancelled. */
  closed: boolean;
}

/**
 * A repository: blobs linked into it, manifests by digest, tags, upload sessions, and, for a path
 * `<owner>/<name>`, its package. Treat as read-only outside {@link SimulationState}.
 * @public
 */
export interface RepositoryRecord {
  /** The repository path, e.g. `octo/team/app`. */
  readonly name: string;
  /** Digests of blobs pushed to (or mounted into) this repository. */
  readonly blobs: Set<Digest>;
  /** Manifests by digest, active and deleted (check `deletedAt`). */
  readonly manifests: Map<Digest, ManifestRecord>;
  /** Active tags → manifest digest. */
  readonly tags: Map<string, Digest>;
  /** Upload sessions by id (not persisted). */
  readonly uploads: Map<string, UploadSession>;
  /** The package, for paths with an owner component. */
  readonly package?: PackageRecord;
}

/**
 * The result of a state operation that can be refused.
 * @public
 */
export type StateResult<T = void> =
  | ({ readonly ok: true } & (T extends void ? { readonly value?: undefined } : { readonly value: T }))
  | { readonly ok: false; readonly reason: StateFailure; readonly message: string };

/**
 * Why a state operation was refused.
 * @public
 */
export type StateFailure =
  | 'owner-unknown'
  | 'package-unknown'
  | 'version-unknown'
  | 'not-deleted'
  | 'restore-window-expired'
  | 'name-reused'
  | 'forbidden';

/**
 * A repository as the state keeps it: its record, and the package it belongs to once declared.
 * @internal
 */
export interface MutableRepository extends RepositoryRecord {
  package?: PackageRecord;
}
