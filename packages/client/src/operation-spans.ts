import { definedProps } from '@ghcr/oci-types';
import type { OperationSpanOptions, OperationTracing, Transport } from '@ghcr/transport';
import type { Retention } from './github/retention/retention.js';
import type { Versions } from './github/versions/versions.js';
import type { Vulnerabilities } from './github/vulnerabilities/vulnerabilities.js';
import { type Images, imageReference } from './images/images.js';
import type { MultiArch } from './multi-arch/multi-arch.js';
import type { Referrers } from './referrers/referrers.js';
import type { Blobs } from './registry/blobs.js';
import type { Manifests } from './registry/manifests.js';
import type { Tags } from './registry/tags.js';
import type { Signatures } from './signatures/signatures.js';
import type { SyncConfig } from './sync/config.js';
import type { SyncOptions, SyncReport } from './sync/sync.js';

// One span per public operation of the client, named `<capability>.<method>` (`images.push`,
// `retention.execute`, `sync.run`), with the requests it sends as children (their HTTP spans come
// from the transport). Attributes name what was worked on — registry host, repository, tag or
// digest, counts of the result — never a credential, a URL query or a local path.

type Attributes = Exclude<NonNullable<OperationSpanOptions<unknown>['attributes']>, () => unknown>;

/** How one method is traced. */
interface MethodSpan<F> {
  /** Attributes from the arguments. */
  readonly attributes?: F extends (...args: infer A) => unknown ? (...args: A) => Attributes : never;
  /** Attributes from the result, when it succeeds. */
  readonly result?: F extends (...args: never[]) => infer R ? (result: Awaited<R>) => Attributes : never;
  /** False for leaf capabilities: inside another operation they are part of it (no span). */
  readonly nested?: boolean;
  /** The method returns an AsyncIterable: the span covers the iteration. */
  readonly iterate?: boolean;
}

type MethodSpans<T> = { readonly [K in keyof T]?: MethodSpan<T[K]> };

/** What the wrapper calls; the per-method types are checked where the specs are written. */
interface AnyMethodSpan {
  readonly attributes?: (...args: unknown[]) => Attributes;
  readonly result?: (result: unknown) => Attributes;
  readonly nested?: boolean;
  readonly iterate?: boolean;
}

/**
 * `target` with each method named in `spans` traced as the operation `<capability>.<method>`.
 * Attribute readers that throw (the operation is about to reject bad input) give no attributes.
 */
function traceMethods<T extends object>(
  tracing: OperationTracing,
  capability: string,
  target: T,
  spans: MethodSpans<T>,
): T {
  const wrapped: Record<string, unknown> = { ...(target as Record<string, unknown>) };
  for (const [name, span] of Object.entries(spans) as [string, AnyMethodSpan][]) {
    const method: unknown = (target as Record<string, unknown>)[name];
    if (typeof method !== 'function') continue;
    const operation = `${capability}.${name}`;
    const nested = span.nested ?? true;
    wrapped[name] = (...args: unknown[]) => {
      const attributes = (): Attributes => {
        try {
          return span.attributes?.(...args) ?? {};
        } catch {
          return {};
        }
      };
      const call = (): unknown => Reflect.apply(method, target, args);
      if (span.iterate === true) {
        return tracing.iterate(operation, { attributes, nested }, call() as AsyncIterable<unknown>);
      }
      const resultAttributes = span.result;
      return tracing.run(operation, { attributes, nested, ...definedProps({ resultAttributes }) }, call);
    };
  }
  return wrapped as T;
}

/** `ghcr.registry`, `ghcr.repository`, `ghcr.reference` of an image reference (under `prefix`). */
function imageAttributes(reference: string, registry: string, prefix = 'ghcr'): Attributes {
  const parsed = imageReference(reference, registry);
  return {
    [`${prefix}.registry`]: parsed.registry,
    [`${prefix}.repository`]: parsed.repository,
    [`${prefix}.reference`]: parsed.digest ?? parsed.tag ?? 'latest',
  };
}

function copyResultAttributes(result: {
  readonly descriptor: { readonly digest: string };
  readonly transferred: number;
  readonly mounted: number;
  readonly skipped: number;
  readonly bytesTransferred: number;
}): Attributes {
  return {
    'ghcr.digest': result.descriptor.digest,
    'ghcr.blobs.transferred': result.transferred,
    'ghcr.blobs.mounted': result.mounted,
    'ghcr.blobs.skipped': result.skipped,
    'ghcr.bytes_transferred': result.bytesTransferred,
  };
}

/**
 * The members of `GhcrClient` that {@link traceClient} wraps (named here, not imported from
 * client.ts, which imports this file).
 * @internal
 */
export interface TracedClient {
  readonly registry: string;
  readonly blobs: Blobs;
  readonly manifests: Manifests;
  readonly tags: Tags;
  readonly images: Images;
  readonly referrers: Referrers;
  readonly multiArch: MultiArch;
  readonly versions: Versions;
  readonly retention: Retention;
  readonly vulnerabilities: Vulnerabilities;
  readonly signatures: Signatures;
  sync(config: SyncConfig | string, options?: SyncOptions): Promise<SyncReport>;
}

/**
 * The same client with every public operation traced (see {@link OperationTracing}).
 * @internal
 */
export function traceClient<C extends TracedClient>(tracing: OperationTracing, client: C): C {
  const registry = client.registry;
  const repository = (name: string): Attributes => ({ 'ghcr.registry': registry, 'ghcr.repository': name });
  const inRepository = (name: string, reference: string): Attributes => ({
    ...repository(name),
    'ghcr.reference': reference,
  });
  const owner = (name: string): Attributes => ({ 'ghcr.registry': registry, 'ghcr.owner': name });
  const version = (name: string, versionId: number): Attributes => ({
    ...repository(name),
    'ghcr.version_id': versionId,
  });
  const leaf = { nested: false } as const;
  const count = (key: string) => (result: readonly unknown[]) => ({ [key]: result.length });
  const traced: TracedClient = {
    ...client,
    blobs: traceMethods(tracing, 'blobs', client.blobs, {
      exists: { ...leaf, attributes: inRepository },
      getBytes: {
        ...leaf,
        attributes: (name, blob) => inRepository(name, typeof blob === 'string' ? blob : blob.digest),
      },
      upload: {
        ...leaf,
        attributes: repository,
        result: (result) => ({ 'ghcr.digest': result.descriptor.digest }),
      },
    }),
    manifests: traceMethods(tracing, 'manifests', client.manifests, {
      get: { ...leaf, attributes: inRepository },
      head: { ...leaf, attributes: inRepository },
      put: { ...leaf, attributes: repository, result: (result) => ({ 'ghcr.digest': result.digest }) },
      delete: { ...leaf, attributes: inRepository },
    }),
    tags: traceMethods(tracing, 'tags', client.tags, {
      list: { ...leaf, attributes: repository, result: count('ghcr.tags.count') },
      pages: { ...leaf, attributes: repository, iterate: true },
      tag: {
        ...leaf,
        attributes: (name, _source, tags) => ({ ...repository(name), 'ghcr.tags': [...tags] }),
        result: (result) => ({ 'ghcr.digest': result.digest }),
      },
      untag: { ...leaf, attributes: inRepository },
    }),
    images: traceMethods(tracing, 'images', client.images, {
      push: {
        attributes: (destination) =>
          typeof destination === 'string'
            ? imageAttributes(destination, registry)
            : { ...repository(destination.repository), 'ghcr.tags': [...destination.tags] },
        result: copyResultAttributes,
      },
      pull: { attributes: (reference) => imageAttributes(reference, registry), result: copyResultAttributes },
      copy: {
        attributes: (source, destination) => ({
          ...imageAttributes(source, registry, 'ghcr.source'),
          ...imageAttributes(destination, registry),
        }),
        result: copyResultAttributes,
      },
      inspect: {
        attributes: (reference) => imageAttributes(reference, registry),
        result: (result) => ({ 'ghcr.digest': result.digest }),
      },
    }),
    referrers: traceMethods(tracing, 'referrers', client.referrers, {
      list: { attributes: inRepository, result: count('ghcr.referrers.count') },
      attach: {
        attributes: (name, subject) =>
          inRepository(name, typeof subject === 'string' ? subject : subject.digest),
        result: (result) => ({ 'ghcr.digest': result.digest }),
      },
      register: {
        attributes: inRepository,
        result: (result) => ({ 'ghcr.referrers.method': result.method }),
      },
    }),
    multiArch: traceMethods(tracing, 'multiArch', client.multiArch, {
      createIndex: {
        attributes: (name, tags) => ({ ...repository(name), 'ghcr.tags': [...tags] }),
        result: (result) => ({ 'ghcr.digest': result.digest }),
      },
      addPlatform: { attributes: inRepository, result: (result) => ({ 'ghcr.digest': result.digest }) },
      removePlatform: { attributes: inRepository, result: (result) => ({ 'ghcr.digest': result.digest }) },
      replacePlatform: { attributes: inRepository, result: (result) => ({ 'ghcr.digest': result.digest }) },
    }),
    versions: traceMethods(tracing, 'versions', client.versions, {
      ownerType: { attributes: owner },
      listPackages: { attributes: owner, result: count('ghcr.packages.count') },
      iteratePackages: { attributes: owner, iterate: true },
      getPackage: { attributes: repository },
      deletePackage: { attributes: repository },
      restorePackage: { attributes: repository },
      list: { attributes: repository, result: count('ghcr.versions.count') },
      iterate: { attributes: repository, iterate: true },
      get: { attributes: version },
      delete: { attributes: version, result: (result) => ({ 'ghcr.outcome': result.outcome }) },
      restore: { attributes: version },
      findByDigest: { attributes: inRepository },
      findByTag: { attributes: inRepository },
      untagAndDelete: { attributes: inRepository },
    }),
    retention: traceMethods(tracing, 'retention', client.retention, {
      readGraph: {
        attributes: (name, versions) => ({ ...repository(name), 'ghcr.retention.versions': versions.length }),
      },
      plan: {
        attributes: (versions) => ({ 'ghcr.retention.versions': versions.length }),
        result: (plan) => ({
          'ghcr.retention.keep': plan.summary.keep,
          'ghcr.retention.delete': plan.summary.delete,
          'ghcr.retention.blocked': plan.blocked,
        }),
      },
      validate: {},
      execute: {
        attributes: (plan, options) => ({
          'ghcr.retention.delete': plan.summary.delete,
          'ghcr.retention.dry_run': options.dryRun === true,
        }),
        result: (report) => ({
          'ghcr.retention.deleted': report.summary.deleted,
          'ghcr.retention.failed': report.summary.failed,
          'ghcr.retention.skipped': report.summary.skipped,
        }),
      },
    }),
    // A reference on another registry is answered by that registry's view, itself traced: its
    // call is part of this one.
    vulnerabilities: traceMethods(tracing, 'vulnerabilities', client.vulnerabilities, {
      reports: { ...leaf, attributes: (reference) => imageAttributes(reference, registry) },
      gate: {
        ...leaf,
        attributes: (reference, options) => ({
          ...imageAttributes(reference, registry),
          ...(options?.failOn === undefined ? {} : { 'ghcr.gate.fail_on': options.failOn }),
        }),
        result: (result) => ({
          'ghcr.digest': result.digest,
          'ghcr.gate.passed': result.passed,
          'ghcr.gate.blocking': result.blocking.length,
        }),
      },
      codeScanningAlerts: { ...leaf },
    }),
    signatures: traceMethods(tracing, 'signatures', client.signatures, {
      verify: {
        attributes: (reference) => imageAttributes(reference, registry),
        result: (result) => ({ 'ghcr.digest': result.digest, 'ghcr.verified': result.verified }),
      },
      attestations: {
        attributes: (reference) => imageAttributes(reference, registry),
        result: (result) => ({ 'ghcr.digest': result.digest, 'ghcr.verified': result.verified }),
      },
      sign: { attributes: (reference) => imageAttributes(reference, registry) },
    }),
    sync: (config, options) =>
      tracing.run(
        'sync.run',
        {
          attributes: () => ({ 'ghcr.sync.dry_run': options?.dryRun === true }),
          resultAttributes: (report: SyncReport) => ({
            'ghcr.sync.status': report.status,
            'ghcr.sync.items': report.items.length,
          }),
        },
        () => client.sync(config, options),
      ),
  };
  return { ...client, ...traced };
}

/**
 * `transport` with the operation running in the caller's scope attached to each request
 * (`traceContext`), so that its HTTP spans are that operation's children.
 * @internal
 */
export function operationTransport(transport: Transport, tracing: OperationTracing): Transport {
  return {
    ...transport,
    send: (request) => {
      const traceContext = request.traceContext ?? tracing.current();
      return transport.send(traceContext === undefined ? request : { ...request, traceContext });
    },
  };
}
