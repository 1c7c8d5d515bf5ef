import type { GhcrClient } from '@ghcr/client';
import {
  type Descriptor,
  definedProps,
  NotFoundError,
  type Reference,
  referenceTarget,
} from '@ghcr/oci-types';
import type { Command } from 'commander';
import { type CommandRegistrar, contextOf } from '../command.js';
import { formatBytes } from '../format.js';
import { formatImage, imageReference } from '../references.js';
import type { InspectDescriptor } from './inspect.js';

/**
 * `--json` shape of `ghcr referrers`.
 * @public
 */
export interface ReferrersResult {
  readonly registry: string;
  readonly repository: string;
  /** The manifest whose referrers these are. */
  readonly subject: { readonly digest: string; readonly mediaType: string; readonly size: number };
  /** The `--artifact-type` filter, when given. */
  readonly artifactType?: string;
  /** Each referrer's descriptor (with `artifactType` and annotations), in the registry's order. */
  readonly referrers: readonly InspectDescriptor[];
}

/**
 * The descriptor of the manifest a reference names, read with HEAD.
 * @throws NotFoundError (`MANIFEST_UNKNOWN`) when there is none.
 * @internal
 */
export async function subjectOf(client: GhcrClient, reference: Reference): Promise<Descriptor> {
  const target = referenceTarget(reference);
  const found = await client.manifests.head(reference.repository, target);
  if (found === undefined) {
    const image = formatImage(reference.registry, reference.repository, reference.tag, reference.digest);
    throw new NotFoundError(`${image} does not exist`, {
      code: 'MANIFEST_UNKNOWN',
      resource: `manifest ${image}`,
    });
  }
  return { mediaType: found.mediaType, digest: found.digest, size: found.size };
}

/**
 * `ghcr referrers <ref> [--artifact-type T]`: the artifacts (signatures, SBOMs, attestations) that
 * refer to a manifest, through the referrers API or, where there is none (ghcr.io), the
 * `sha256-<hex>` fallback tag and cosign's tags.
 * @internal
 */
export const registerReferrersCommand: CommandRegistrar = (program, runtime) => {
  program
    .command('referrers')
    .description('list the signatures, SBOMs and other artifacts that refer to a manifest')
    .argument('<ref>', 'registry/repository:tag or @digest (":latest" if neither)')
    .option('--artifact-type <type>', 'only referrers of this artifact type')
    .action(async (refArgument: string, _options: unknown, command: Command) => {
      const context = contextOf(runtime, command);
      const options = command.opts<{ artifactType?: string }>();
      const reference = imageReference(refArgument);
      const client = context.client(reference.registry);
      const subject = await subjectOf(client, reference);
      const referrers = await client.referrers.list(reference.repository, subject.digest, {
        ...definedProps({ artifactType: options.artifactType }),
      });
      const result: ReferrersResult = {
        registry: reference.registry,
        repository: reference.repository,
        subject,
        ...definedProps({ artifactType: options.artifactType }),
        referrers: referrers.map((referrer) => ({
          digest: referrer.digest,
          mediaType: referrer.mediaType,
          size: referrer.size,
          ...definedProps({ artifactType: referrer.artifactType, annotations: referrer.annotations }),
        })),
      };
      context.output.emit(result, () =>
        result.referrers.map(
          (referrer) =>
            `${referrer.digest}  ${referrer.artifactType ?? referrer.mediaType}  ${formatBytes(referrer.size)}`,
        ),
      );
      if (result.referrers.length === 0) {
        context.output.note(
          `no referrers of ${formatImage(reference.registry, reference.repository, undefined, subject.digest)}${options.artifactType === undefined ? '' : ` of type ${options.artifactType}`}`,
        );
      }
    });
};
