import { randomBytes, randomUUID } from 'node:crypto';
import { ConfigError, type Digest, definedProps, NotFoundError } from '@ghcr/oci-types';
import type { BlobStore } from './blob-store.js';
import type {
  ManifestRecord,
  ManifestReference,
  MutableRepository,
  OwnerRecord,
  PackageRecord,
  PackageScope,
  PatRecord,
  RepositoryRecord,
  SimulationVisibility,
  StateResult,
  UploadSession,
} from './records.js';
import { fromSnapshot, type StateSnapshot, toSnapshot } from './snapshot.js';
import { TagMap } from './tag-map.js';

/** How long a deleted package or version can be restored (GitHub: 30 days). @public */
export const RESTORE_WINDOW_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * What {@link SimulationState.putManifest} needs besides the repository.
 * @public
 */
export interface ManifestInput {
  readonly digest: Digest;
  readonly mediaType: string;
  readonly bytes: Uint8Array;
  readonly artifactType?: string;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly subject?: Digest;
  readonly references: readonly ManifestReference[];
}

/**
 * Options of {@link SimulationState}.
 * @internal
 */
export interface SimulationStateOptions {
  readonly store: BlobStore;
  readonly now: () => number;
  readonly defaultVisibility: SimulationVisibility;
}

/** @internal */

function key(login: string): string {
  return login.toLowerCase();
}

function ownerOf(name: string): { owner: string; packageName: string } | undefined {
  const slash = name.indexOf('/');
  if (slash <= 0) return undefined;
  return { owner: name.slice(0, slash), packageName: name.slice(slash + 1) };
}

/**
 * The whole simulated world: owners, tokens, repositories (blobs, manifests, tags, uploads) and
 * their packages. Registry and GitHub API handlers read it directly and change it only through its
 * methods, which persist to the {@link BlobStore} (the disk store survives restarts). Every method
 * is synchronous except those that touch blob bytes.
 *
 * Names: owner logins are matched case-insensitively; repository paths are exact (the registry
 * grammar only allows lower case).
 * @public
 */
export class SimulationState {
  /** Where blob and manifest bytes live. */
  readonly store: BlobStore;
  readonly #now: () => number;
  readonly #defaultVisibility: SimulationVisibility;
  readonly #owners = new Map<string, OwnerRecord>();
  readonly #pats = new Map<string, PatRecord>();
  readonly #repositories = new Map<string, MutableRepository>();
  /** Deleted packages (their repositories, intact) awaiting restore. */
  readonly #deletedRepositories: MutableRepository[] = [];
  #nextOwnerId = 1;
  #nextPackageId = 1;
  #nextVersionId = 1;
  #persistScheduled = false;

  /** @internal */
  constructor(options: SimulationStateOptions) {
    this.store = options.store;
    this.#now = options.now;
    this.#defaultVisibility = options.defaultVisibility;
    const saved = this.store.loadMetadata();
    if (saved !== undefined) this.#load(fromSnapshot(saved));
  }

  // ---------------------------------------------------------------- owners and tokens

  /**
   * Creates a user (idempotent when it already is a user).
   * @throws ConfigError when the login is taken by an organisation.
   */
  createUser(login: string): OwnerRecord {
    return this.#createOwner(login, 'User', []);
  }

  /**
   * Creates an organisation administered by `admins` (users, created when unknown). Calling it
   * again adds admins.
   * @throws ConfigError when the login is taken by a user.
   */
  createOrganization(login: string, admins: readonly string[] = []): OwnerRecord {
    for (const admin of admins) this.createUser(admin);
    return this.#createOwner(login, 'Organization', admins);
  }

  #createOwner(login: string, type: OwnerRecord['type'], admins: readonly string[]): OwnerRecord {
    if (!/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/.test(login)) {
      throw new ConfigError(
        `invalid GitHub login "${login}": use 1-39 letters, digits or "-", not starting with "-"`,
      );
    }
    const existing = this.#owners.get(key(login));
    if (existing !== undefined) {
      if (existing.type !== type) {
        throw new ConfigError(`"${login}" already exists as a ${existing.type}; pick another login`);
      }
      for (const admin of admins) if (!existing.admins.includes(admin)) existing.admins.push(admin);
      this.persist();
      return existing;
    }
    const record: OwnerRecord = {
      id: this.#nextOwnerId++,
      login,
      type,
      admins: [...admins],
      createdAt: this.#now(),
    };
    this.#owners.set(key(login), record);
    this.persist();
    return record;
  }

  /** The owner with this login (case-insensitive), or undefined. */
  getOwner(login: string): OwnerRecord | undefined {
    return this.#owners.get(key(login));
  }

  /** Every owner, in creation order. */
  listOwners(): OwnerRecord[] {
    return [...this.#owners.values()].sort((a, b) => a.id - b.id);
  }

  /**
   * True when `user` may administer packages of `owner`: it is that user, or an admin of that
   * organisation.
   */
  isAdmin(user: string, owner: string): boolean {
    const record = this.getOwner(owner);
    if (record === undefined) return false;
    if (record.type === 'User') return key(record.login) === key(user);
    return record.admins.some((admin) => key(admin) === key(user));
  }

  /**
   * Creates a personal access token (classic) `ghp_…` for a user (created when unknown).
   */
  createToken(user: string, scopes: readonly PackageScope[], value?: string): string {
    this.createUser(user);
    const token = value ?? `ghp_${randomBytes(27).toString('base64url').replace(/[-_]/g, 'x').slice(0, 36)}`;
    if (value !== undefined && (value.length < 8 || /\s/.test(value))) {
      throw new ConfigError('a simulation token needs at least 8 characters and no white space', {
        field: 'token',
      });
    }
    this.#pats.set(token, {
      token,
      user: this.getOwner(user)?.login ?? user,
      scopes: [...scopes],
      createdAt: this.#now(),
    });
    this.persist();
    return token;
  }

  /** The record of a PAT, or undefined when unknown. */
  getPat(token: string): PatRecord | undefined {
    return this.#pats.get(token);
  }

  /** True when `scopes` grant `scope` (`write:packages` implies `read:packages`). */
  static hasScope(scopes: readonly PackageScope[], scope: PackageScope): boolean {
    if (scopes.includes(scope)) return true;
    return scope === 'read:packages' && scopes.includes('write:packages');
  }

  // ---------------------------------------------------------------- repositories and packages

  /**
   * The active repository at `name`, or undefined (also when its package is deleted).
   */
  getRepository(name: string): RepositoryRecord | undefined {
    return this.#repositories.get(name);
  }

  /** Every active repository, sorted by name. */
  listRepositories(): RepositoryRecord[] {
    return [...this.#repositories.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * Returns the repository at `name`, creating it (and its package, private by default) when
   * absent. An unknown owner is created as an organisation administered by `pusher` (when given),
   * as the simulation's stand-in for "the first push creates the package".
   */
  ensureRepository(name: string, pusher?: string): RepositoryRecord {
    const existing = this.#repositories.get(name);
    if (existing !== undefined) return existing;
    const parts = ownerOf(name);
    let pkg: PackageRecord | undefined;
    if (parts !== undefined) {
      let owner = this.getOwner(parts.owner);
      if (owner === undefined)
        owner = this.createOrganization(parts.owner, pusher === undefined ? [] : [pusher]);
      const now = this.#now();
      pkg = {
        id: this.#nextPackageId++,
        owner: owner.login,
        name: parts.packageName,
        visibility: this.#defaultVisibility,
        createdAt: now,
        updatedAt: now,
      };
    }
    const repository: MutableRepository = {
      name,
      blobs: new Set(),
      manifests: new Map(),
      tags: new TagMap(),
      uploads: new Map(),
      ...definedProps({ package: pkg }),
    };
    this.#repositories.set(name, repository);
    this.persist();
    return repository;
  }

  /** The repository path of a package. */
  static repositoryName(owner: string, packageName: string): string {
    return `${owner}/${packageName}`;
  }

  /**
   * The repository of package `<owner>/<packageName>` (owner case-insensitive), active or, with
   * `deleted: true`, the most recently deleted one.
   */
  findPackage(
    owner: string,
    packageName: string,
    options: { deleted?: boolean } = {},
  ): RepositoryRecord | undefined {
    const match = (repository: RepositoryRecord): boolean =>
      repository.package !== undefined &&
      key(repository.package.owner) === key(owner) &&
      repository.package.name === packageName;
    if (options.deleted === true) {
      for (let i = this.#deletedRepositories.length - 1; i >= 0; i--) {
        const repository = this.#deletedRepositories[i];
        if (repository !== undefined && match(repository)) return repository;
      }
      return undefined;
    }
    const ownerRecord = this.getOwner(owner);
    const repository = this.#repositories.get(
      SimulationState.repositoryName(ownerRecord?.login ?? owner, packageName),
    );
    if (repository !== undefined && match(repository)) return repository;
    return [...this.#repositories.values()].find(match);
  }

  /**
   * The packages of an owner (active, or deleted with `deleted: true`), by package id.
   */
  listPackages(owner: string, options: { deleted?: boolean } = {}): RepositoryRecord[] {
    const source = options.deleted === true ? this.#deletedRepositories : [...this.#repositories.values()];
    return source
      .filter(
        (repository) => repository.package !== undefined && key(repository.package.owner) === key(owner),
      )
      .sort((a, b) => (a.package?.id ?? 0) - (b.package?.id ?? 0));
  }

  /**
   * Sets a package's visibility, declaring the (empty) package first when nothing was pushed yet.
   * @throws NotFoundError when the owner does not exist.
   */
  setVisibility(owner: string, packageName: string, visibility: SimulationVisibility): void {
    const ownerRecord = this.getOwner(owner);
    if (ownerRecord === undefined) {
      throw new NotFoundError(
        `owner "${owner}" does not exist; create it with createUser() or createOrganization() first`,
      );
    }
    const repository = (this.findPackage(owner, packageName) ??
      this.ensureRepository(
        SimulationState.repositoryName(ownerRecord.login, packageName),
      )) as MutableRepository;
    if (repository.package !== undefined) {
      repository.package.visibility = visibility;
      repository.package.updatedAt = this.#now();
    }
    this.persist();
  }

  /** True when anyone may pull `name` (its package is public). */
  isPublic(name: string): boolean {
    return this.#repositories.get(name)?.package?.visibility === 'public';
  }

  /**
   * Versions of a package: `active` (default) or `deleted`, newest first (by version id, as
   * GitHub lists them).
   */
  listVersions(repository: RepositoryRecord, state: 'active' | 'deleted' = 'active'): ManifestRecord[] {
    return [...repository.manifests.values()]
      .filter((manifest) =>
        state === 'active' ? manifest.deletedAt === undefined : manifest.deletedAt !== undefined,
      )
      .sort((a, b) => b.versionId - a.versionId);
  }

  /** The version with this id in a repository (active or deleted), or undefined. */
  getVersion(repository: RepositoryRecord, versionId: number): ManifestRecord | undefined {
    for (const manifest of repository.manifests.values())
      if (manifest.versionId === versionId) return manifest;
    return undefined;
  }

  /** Active tags pointing at `digest`, sorted; for a deleted version, the tags it had. */
  tagsOf(repository: RepositoryRecord, digest: Digest): string[] {
    const manifest = repository.manifests.get(digest);
    if (manifest?.deletedAt !== undefined) return [...manifest.deletedTags].sort();
    const tags: string[] = [];
    for (const [tag, target] of repository.tags) if (target === digest) tags.push(tag);
    return tags.sort();
  }

  /**
   * Deletes a package version: its manifest and the tags pointing at it leave the registry view;
   * the bytes stay so {@link SimulationState.restoreVersion} can bring it back within 30 days.
   */
  deleteVersion(repository: RepositoryRecord, versionId: number): StateResult {
    const manifest = this.getVersion(repository, versionId);
    if (manifest === undefined || manifest.deletedAt !== undefined) {
      return { ok: false, reason: 'version-unknown', message: `version ${versionId} does not exist` };
    }
    const tags = this.tagsOf(repository, manifest.digest);
    for (const tag of tags) repository.tags.delete(tag);
    manifest.deletedTags = tags;
    const now = this.#now();
    manifest.deletedAt = now;
    manifest.updatedAt = now;
    this.#touchPackage(repository, now);
    this.persist();
    return { ok: true };
  }

  /**
   * Restores a deleted version (within 30 days): the manifest is visible again and its former tags
   * come back unless they were moved meanwhile.
   */
  restoreVersion(repository: RepositoryRecord, versionId: number): StateResult {
    const manifest = this.getVersion(repository, versionId);
    if (manifest === undefined)
      return { ok: false, reason: 'version-unknown', message: `version ${versionId} does not exist` };
    if (manifest.deletedAt === undefined) {
      return { ok: false, reason: 'not-deleted', message: `version ${versionId} is not deleted` };
    }
    const now = this.#now();
    if (now - manifest.deletedAt > RESTORE_WINDOW_MS) {
      return {
        ok: false,
        reason: 'restore-window-expired',
        message: `version ${versionId} was deleted more than 30 days ago`,
      };
    }
    for (const tag of manifest.deletedTags)
      if (!repository.tags.has(tag)) repository.tags.set(tag, manifest.digest);
    manifest.deletedTags = [];
    delete manifest.deletedAt;
    manifest.updatedAt = now;
    this.#touchPackage(repository, now);
    this.persist();
    return { ok: true };
  }

  /**
   * Deletes a whole package: its repository leaves the registry (pulls answer NAME_UNKNOWN) and is
   * kept for {@link SimulationState.restorePackage} for 30 days, unless the name is pushed again.
   */
  deletePackage(repository: RepositoryRecord): StateResult {
    const active = this.#repositories.get(repository.name);
    if (active !== repository || active.package === undefined) {
      return { ok: false, reason: 'package-unknown', message: `package ${repository.name} does not exist` };
    }
    for (const session of active.uploads.values()) {
      session.closed = true;
      void session.writer.abort();
    }
    active.uploads.clear();
    active.package.deletedAt = this.#now();
    this.#repositories.delete(active.name);
    this.#deletedRepositories.push(active);
    this.persist();
    return { ok: true };
  }

  /** Restores a deleted package within 30 days, when its name has not been reused. */
  restorePackage(owner: string, packageName: string): StateResult {
    const repository = this.findPackage(owner, packageName, { deleted: true }) as
      | MutableRepository
      | undefined;
    if (repository?.package?.deletedAt === undefined) {
      return { ok: false, reason: 'package-unknown', message: `no deleted package ${owner}/${packageName}` };
    }
    if (this.#repositories.has(repository.name)) {
      return {
        ok: false,
        reason: 'name-reused',
        message: `the name ${repository.name} has been reused by a new package`,
      };
    }
    const now = this.#now();
    if (now - repository.package.deletedAt > RESTORE_WINDOW_MS) {
      return {
        ok: false,
        reason: 'restore-window-expired',
        message: `package ${repository.name} was deleted more than 30 days ago`,
      };
    }
    delete repository.package.deletedAt;
    repository.package.updatedAt = now;
    this.#deletedRepositories.splice(this.#deletedRepositories.indexOf(repository), 1);
    this.#repositories.set(repository.name, repository);
    this.persist();
    return { ok: true };
  }

  #touchPackage(repository: RepositoryRecord, now: number): void {
    if (repository.package !== undefined) repository.package.updatedAt = now;
  }

  // ---------------------------------------------------------------- registry content

  /** Links a stored blob into a repository (after an upload or a mount). */
  linkBlob(repository: RepositoryRecord, digest: Digest): void {
    if (repository.blobs.has(digest)) return;
    repository.blobs.add(digest);
    this.persist();
  }

  /** Unlinks a blob from a repository (the bytes stay in the store). Returns false when not linked. */
  unlinkBlob(repository: RepositoryRecord, digest: Digest): boolean {
    const had = repository.blobs.delete(digest);
    if (had) this.persist();
    return had;
  }

  /** True when the blob is linked into the repository and its bytes are in the store. */
  hasBlob(repository: RepositoryRecord, digest: Digest): boolean {
    return repository.blobs.has(digest) && this.store.sizeOf(digest) !== undefined;
  }

  /**
   * The active manifest for a tag or digest, or undefined (deleted versions are invisible).
   */
  resolveManifest(repository: RepositoryRecord, reference: string): ManifestRecord | undefined {
    const digest = reference.includes(':') ? (reference as Digest) : repository.tags.get(reference);
    if (digest === undefined) return undefined;
    const manifest = repository.manifests.get(digest);
    return manifest === undefined || manifest.deletedAt !== undefined ? undefined : manifest;
  }

  /**
   * Stores a manifest (a new package version, or the same version again when the bytes were
   * pushed before; a deleted version pushed again is restored) and points `tag` at it.
   */
  putManifest(repository: RepositoryRecord, input: ManifestInput, tag?: string): ManifestRecord {
    const now = this.#now();
    let manifest = repository.manifests.get(input.digest);
    if (manifest === undefined) {
      manifest = {
        digest: input.digest,
        mediaType: input.mediaType,
        size: input.bytes.byteLength,
        bytes: input.bytes,
        ...definedProps({
          artifactType: input.artifactType,
          annotations: input.annotations,
          subject: input.subject,
        }),
        references: input.references,
        versionId: this.#nextVersionId++,
        createdAt: now,
        updatedAt: now,
        downloadCount: 0,
        deletedTags: [],
      };
      repository.manifests.set(input.digest, manifest);
    } else {
      if (manifest.deletedAt !== undefined) {
        delete manifest.deletedAt;
        manifest.deletedTags = [];
      }
      manifest.updatedAt = now;
    }
    if (tag !== undefined) {
      const previous = repository.tags.get(tag);
      if (previous !== undefined && previous !== input.digest) {
        const old = repository.manifests.get(previous);
        if (old !== undefined) old.updatedAt = now;
      }
      repository.tags.set(tag, input.digest);
    }
    this.#touchPackage(repository, now);
    this.persist();
    return manifest;
  }

  /**
   * Removes a manifest from the repository for good (distribution-spec DELETE by digest) with
   * every tag pointing at it. Returns false when absent.
   */
  deleteManifest(repository: RepositoryRecord, digest: Digest): boolean {
    const manifest = repository.manifests.get(digest);
    if (manifest === undefined || manifest.deletedAt !== undefined) return false;
    for (const [tag, target] of [...repository.tags]) if (target === digest) repository.tags.delete(tag);
    repository.manifests.delete(digest);
    this.#touchPackage(repository, this.#now());
    this.persist();
    return true;
  }

  /** Removes a tag (distribution-spec DELETE by tag). Returns false when absent. */
  deleteTag(repository: RepositoryRecord, tag: string): boolean {
    const had = repository.tags.delete(tag);
    if (had) this.persist();
    return had;
  }

  /** Counts a download of a manifest (ghcr: every manifest GET). */
  recordDownload(manifest: ManifestRecord): void {
    manifest.downloadCount += 1;
    this.persist(false);
  }

  /**
   * Active manifests of a repository whose `subject` is `digest` (the referrers API).
   */
  referrersOf(repository: RepositoryRecord, digest: Digest): ManifestRecord[] {
    return [...repository.manifests.values()]
      .filter((manifest) => manifest.deletedAt === undefined && manifest.subject === digest)
      .sort((a, b) => a.versionId - b.versionId);
  }

  // ---------------------------------------------------------------- uploads

  /** Opens an upload session in a repository. */
  createUpload(repository: RepositoryRecord): UploadSession {
    const session: UploadSession = {
      id: randomUUID(),
      repository: repository.name,
      startedAt: this.#now(),
      writer: this.store.createWriter(),
      queue: Promise.resolve(),
      closed: false,
    };
    repository.uploads.set(session.id, session);
    return session;
  }

  /** An open upload session, or undefined. */
  getUpload(repository: RepositoryRecord, id: string): UploadSession | undefined {
    const session = repository.uploads.get(id);
    return session === undefined || session.closed ? undefined : session;
  }

  /** Closes a session (after a successful PUT or a DELETE); aborts its writer when `abort`. */
  async closeUpload(repository: RepositoryRecord, session: UploadSession, abort: boolean): Promise<void> {
    session.closed = true;
    repository.uploads.delete(session.id);
    if (abort) await session.writer.abort();
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * Saves metadata to the store. `urgent: false` coalesces writes into one per event-loop turn
   * (download counters); everything else is written at once.
   * @internal
   */
  persist(urgent = true): void {
    if (this.store.kind === 'memory') return;
    if (urgent) {
      this.flush();
      return;
    }
    if (this.#persistScheduled) return;
    this.#persistScheduled = true;
    setImmediate(() => {
      if (this.#persistScheduled) this.flush();
    });
  }

  /** Writes metadata to the store now. */
  flush(): void {
    this.#persistScheduled = false;
    if (this.store.kind === 'memory') return;
    this.store.saveMetadata(
      toSnapshot({
        owners: this.listOwners(),
        pats: [...this.#pats.values()],
        repositories: [...this.#repositories.values()],
        deletedRepositories: this.#deletedRepositories,
        nextOwnerId: this.#nextOwnerId,
        nextPackageId: this.#nextPackageId,
        nextVersionId: this.#nextVersionId,
      }),
    );
  }

  /** Forgets everything: owners, tokens, repositories, packages and the store's bytes. */
  reset(): void {
    for (const repository of this.#repositories.values()) {
      for (const session of repository.uploads.values()) void session.writer.abort();
    }
    this.#owners.clear();
    this.#pats.clear();
    this.#repositories.clear();
    this.#deletedRepositories.length = 0;
    this.#nextOwnerId = 1;
    this.#nextPackageId = 1;
    this.#nextVersionId = 1;
    this.#persistScheduled = false;
    this.store.clear();
  }

  #load(snapshot: StateSnapshot): void {
    for (const owner of snapshot.owners) this.#owners.set(key(owner.login), owner);
    for (const pat of snapshot.pats) this.#pats.set(pat.token, pat);
    for (const repository of snapshot.repositories) this.#repositories.set(repository.name, repository);
    this.#deletedRepositories.push(...snapshot.deletedRepositories);
    this.#nextOwnerId = snapshot.nextOwnerId;
    this.#nextPackageId = snapshot.nextPackageId;
    this.#nextVersionId = snapshot.nextVersionId;
  }
}
