import { type Digest, definedProps, InternalError } from '@ghcr/oci-types';
import * as z from 'zod';
import type { ManifestRecord, MutableRepository, OwnerRecord, PackageRecord, PatRecord } from './records.js';
import { TagMap } from './tag-map.js';

const SNAPSHOT_VERSION = 1;

const ownerSchema = z.object({
  id: z.number(),
  login: z.string(),
  type: z.enum(['User', 'Organization']),
  admins: z.array(z.string()),
  createdAt: z.number(),
});

const patSchema = z.object({
  token: z.string(),
  user: z.string(),
  scopes: z.array(z.enum(['read:packages', 'write:packages', 'delete:packages'])),
  createdAt: z.number(),
});

const manifestSchema = z.object({
  digest: z.string(),
  mediaType: z.string(),
  bytes: z.string(),
  artifactType: z.string().optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  subject: z.string().optional(),
  references: z.array(
    z.object({
      role: z.enum(['config', 'layer', 'manifest', 'subject']),
      digest: z.string(),
      mediaType: z.string(),
      size: z.number(),
    }),
  ),
  versionId: z.number(),
  createdAt: z.number(),
  updatedAt: z.number(),
  deletedAt: z.number().optional(),
  downloadCount: z.number(),
  deletedTags: z.array(z.string()),
});

const packageSchema = z.object({
  id: z.number(),
  owner: z.string(),
  name: z.string(),
  visibility: z.enum(['public', 'private']),
  createdAt: z.number(),
  updatedAt: z.number(),
  deletedAt: z.number().optional(),
});

const repositorySchema = z.object({
  name: z.string(),
  blobs: z.array(z.string()),
  manifests: z.array(manifestSchema),
  tags: z.array(z.tuple([z.string(), z.string()])),
  package: packageSchema.optional(),
});

const snapshotSchema = z.object({
  version: z.literal(SNAPSHOT_VERSION),
  owners: z.array(ownerSchema),
  pats: z.array(patSchema),
  repositories: z.array(repositorySchema),
  deletedRepositories: z.array(repositorySchema),
  nextOwnerId: z.number(),
  nextPackageId: z.number(),
  nextVersionId: z.number(),
});

/**
 * The state, in memory form, as the disk store saves and loads it.
 * @internal
 */
export interface StateSnapshot {
  readonly owners: OwnerRecord[];
  readonly pats: PatRecord[];
  readonly repositories: MutableRepository[];
  readonly deletedRepositories: MutableRepository[];
  readonly nextOwnerId: number;
  readonly nextPackageId: number;
  readonly nextVersionId: number;
}

function repositoryToJson(repository: MutableRepository): z.input<typeof repositorySchema> {
  return {
    name: repository.name,
    blobs: [...repository.blobs],
    manifests: [...repository.manifests.values()].map((manifest) => {
      const { bytes, size: _size, ...rest } = manifest;
      return {
        ...rest,
        references: rest.references.map((reference) => ({ ...reference })),
        deletedTags: [...rest.deletedTags],
        bytes: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'),
      };
    }),
    tags: [...repository.tags],
    ...(repository.package === undefined ? {} : { package: { ...repository.package } }),
  };
}

function repositoryFromJson(json: z.output<typeof repositorySchema>): MutableRepository {
  const manifests = new Map<Digest, ManifestRecord>();
  for (const entry of json.manifests) {
    const bytes = new Uint8Array(Buffer.from(entry.bytes, 'base64'));
    const { bytes: _bytes, annotations, artifactType, subject, deletedAt, ...rest } = entry;
    const record: ManifestRecord = {
      ...rest,
      digest: entry.digest as Digest,
      size: bytes.byteLength,
      bytes,
      references: entry.references.map((reference) => ({ ...reference, digest: reference.digest as Digest })),
      ...definedProps({ annotations, artifactType }),
      ...(subject === undefined ? {} : { subject: subject as Digest }),
      ...definedProps({ deletedAt }),
    };
    manifests.set(record.digest, record);
  }
  let pkg: PackageRecord | undefined;
  if (json.package !== undefined) {
    const { deletedAt, ...rest } = json.package;
    pkg = { ...rest, ...definedProps({ deletedAt }) };
  }
  return {
    name: json.name,
    blobs: new Set(json.blobs as Digest[]),
    manifests,
    tags: new TagMap(json.tags.map(([tag, digest]) => [tag, digest as Digest])),
    uploads: new Map(),
    ...definedProps({ package: pkg }),
  };
}

/** Turns the state into a JSON-ready document. @internal */
export function toSnapshot(snapshot: StateSnapshot): unknown {
  return {
    version: SNAPSHOT_VERSION,
    owners: snapshot.owners,
    pats: snapshot.pats,
    repositories: snapshot.repositories.map(repositoryToJson),
    deletedRepositories: snapshot.deletedRepositories.map(repositoryToJson),
    nextOwnerId: snapshot.nextOwnerId,
    nextPackageId: snapshot.nextPackageId,
    nextVersionId: snapshot.nextVersionId,
  };
}

/**
 * Reads a saved document back.
 * @throws InternalError when the document is not a snapshot this version understands.
 * @internal
 */
export function fromSnapshot(document: unknown): StateSnapshot {
  const parsed = snapshotSchema.safeParse(document);
  if (!parsed.success) {
    throw new InternalError(
      `the simulation's saved metadata is unreadable (${parsed.error.issues[0]?.message ?? 'invalid'}); move the data directory aside to start fresh`,
      { cause: parsed.error },
    );
  }
  const data = parsed.data;
  return {
    owners: data.owners,
    pats: data.pats,
    repositories: data.repositories.map(repositoryFromJson),
    deletedRepositories: data.deletedRepositories.map(repositoryFromJson),
    nextOwnerId: data.nextOwnerId,
    nextPackageId: data.nextPackageId,
    nextVersionId: data.nextVersionId,
  };
}
