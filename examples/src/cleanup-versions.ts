/**
 * The seed's version-cleanup pattern (§7.2): keep the newest N images and every tag matching the
 * patterns, delete the other versions. Done so that nothing kept breaks: the registry graph is read
 * before anything is planned, so platform manifests, attestations and signatures are deleted only
 * with the image they belong to and kept with every image that is kept. Plan, print, then apply
 * (a dry run unless asked: `cleanup-versions [repository] [keep-latest] [--apply]`).
 */
import type { RetentionPlan, RetentionReport } from '@ghcr/client';
import { buildImageManifest } from '@ghcr/manifest';
import { digestOf, MediaType } from '@ghcr/oci-types';
import { type ExampleTarget, runIfMain } from './connect.js';

export interface CleanupVersionsOptions {
  /** Delete for real. If omitted, false: the plan is printed and reported, nothing is deleted. */
  readonly apply?: boolean;
  /** Where the plan is printed. If omitted, `console.log`. */
  readonly print?: (line: string) => void;
}

export interface CleanupVersionsResult {
  readonly plan: RetentionPlan;
  readonly report: RetentionReport;
}

/**
 * Keeps the `keepLatest` newest tagged images and every image with a tag matching `keepPatterns`
 * (regular expressions, or globs such as `v1.*`); deletes every other tagged image and every
 * untagged one, each with what hangs from it.
 */
export async function cleanupVersions(
  target: ExampleTarget,
  repository: string,
  keepLatest: number,
  keepPatterns: readonly (string | RegExp)[],
  options: CleanupVersionsOptions = {},
): Promise<CleanupVersionsResult> {
  const { client } = target;
  const print = options.print ?? ((line: string) => console.log(line));
  // Every active version (Packages API), then the registry graph over them (each manifest read once).
  const versions = await client.versions.list(repository);
  const graph = await client.retention.readGraph(repository, versions);
  const plan = client.retention.plan(versions, graph, {
    keepNewestTagged: keepLatest,
    keepTags: [...keepPatterns],
  });

  print(
    `${repository}: keep ${plan.summary.keep}, delete ${plan.summary.delete} of ${plan.summary.versions} versions`,
  );
  for (const decision of plan.decisions) {
    const tags = decision.tags.length === 0 ? 'untagged' : decision.tags.join(', ');
    print(
      `  ${decision.action.padEnd(6)} ${decision.id} ${decision.kind} (${tags}): ${decision.reasons[0]?.message ?? ''}`,
    );
  }
  for (const warning of plan.warnings) print(`  warning: ${warning.message}`);

  const report = await client.retention.execute(plan, {
    dryRun: options.apply !== true,
    // Parents before children; a 404 counts as done; the transport paces DELETEs (~180 a minute).
    deleteVersion: async (id, { signal }) => {
      await client.versions.delete(repository, id, signal === undefined ? {} : { signal });
    },
    // Before each batch, look again: what a push made reachable since the plan is left alone.
    revalidate: client.retention.revalidation(repository, graph, {
      listVersions: (read) => client.versions.iterate(repository, read),
    }),
  });
  print(
    options.apply === true
      ? `deleted ${report.summary.deleted}, failed ${report.summary.failed}, skipped ${report.summary.skipped}`
      : 'dry run: nothing was deleted (pass --apply to delete)',
  );
  return { plan, report };
}

/** Pushes one release: an image per platform, untagged, and an index over them under `tag`. */
async function pushRelease(
  target: ExampleTarget,
  repository: string,
  tags: readonly string[],
): Promise<string> {
  const { client } = target;
  const digests: string[] = [];
  for (const architecture of ['amd64', 'arm64']) {
    const layer = Buffer.from(`${repository}:${tags.join(',')} built for linux/${architecture}\n`);
    const config = Buffer.from(
      JSON.stringify({ architecture, os: 'linux', rootfs: { type: 'layers', diff_ids: [digestOf(layer)] } }),
    );
    const [layerBlob, configBlob] = await Promise.all([
      client.blobs.upload(repository, layer),
      client.blobs.upload(repository, config),
    ]);
    const manifest = buildImageManifest({
      config: { ...configBlob.descriptor, mediaType: MediaType.OciConfig },
      layers: [{ ...layerBlob.descriptor, mediaType: MediaType.OciLayer }],
    });
    digests.push((await client.manifests.put(repository, manifest)).digest);
  }
  return (await client.multiArch.createIndex(repository, tags, digests)).digest;
}

/**
 * Something to clean up: five multi-arch releases (`1.0.0`, `1.1.0`, `pr-7`, `pr-8`, then `1.2.0`
 * and `latest`), oldest first; each is an index and two untagged platform manifests.
 */
export async function pushReleases(
  target: ExampleTarget,
  repository: string,
): Promise<Record<string, string>> {
  const digests: Record<string, string> = {};
  for (const tags of [['1.0.0'], ['1.1.0'], ['pr-7'], ['pr-8'], ['1.2.0', 'latest']]) {
    const digest = await pushRelease(target, repository, tags);
    for (const tag of tags) digests[tag] = digest;
  }
  return digests;
}

runIfMain(import.meta.url, async (target) => {
  const [repositoryArgument, keepArgument] = process.argv
    .slice(2)
    .filter((argument) => !argument.startsWith('--'));
  const repository = repositoryArgument ?? `${target.owner}/cleanup-demo`;
  const keepLatest = Number(keepArgument ?? 1);
  const apply = process.argv.includes('--apply') || target.simulation !== undefined;
  // Against the embedded simulation there is nothing yet: push releases to clean up (and apply).
  if (target.simulation !== undefined) await pushReleases(target, repository);
  const { report } = await cleanupVersions(target, repository, keepLatest, ['latest', /^\d+\.2\.\d+$/], {
    apply,
  });
  return {
    deleted: report.deleted.map((entry) => `${entry.id} ${entry.kind} ${entry.tags.join(',')}`.trim()),
    kept: report.summary.kept,
    failed: report.failed.map((entry) => `${entry.id}: ${entry.error.message}`),
    remainingTags: await target.client.tags.list(repository),
  };
});
