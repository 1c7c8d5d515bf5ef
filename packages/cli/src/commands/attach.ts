import { isImageManifest } from '@ghcr/manifest';
import { definedProps } from '@ghcr/oci-types';
import type { Command } from 'commander';
import { collect, parseAnnotations, pathArgument } from '../arguments.js';
import { type CommandRegistrar, contextOf } from '../command.js';
import { usageError } from '../errors.js';
import { formatImage, imageReference } from '../references.js';
import { subjectOf } from './referrers.js';

/**
 * A file of an attached artifact, in `ghcr attach --json` output.
 * @public
 */
export interface AttachedFile {
  /** The path as given. */
  readonly path: string;
  readonly digest: string;
  readonly mediaType: string;
  readonly size: number;
}

/**
 * `--json` shape of `ghcr attach`.
 * @public
 */
export interface AttachResult {
  readonly registry: string;
  readonly repository: string;
  /** The manifest the artifact refers to. */
  readonly subject: { readonly digest: string; readonly mediaType: string; readonly size: number };
  /** The artifact manifest (pushed by digest). */
  readonly digest: string;
  readonly mediaType: string;
  readonly size: number;
  readonly artifactType: string;
  readonly annotations?: Readonly<Record<string, string>>;
  /** Its files, one layer each, in order. */
  readonly files: readonly AttachedFile[];
}

/**
 * `ghcr attach <ref> <file>... --artifact-type T`: an artifact whose `subject` is `<ref>` (as
 * `oras attach`), listed by the referrers API or, where there is none, the `sha256-<hex>` tag.
 * @internal
 */
export const registerAttachCommand: CommandRegistrar = (program, runtime) => {
  program
    .command('attach')
    .description('attach files as an artifact that refers to an image (a signature, an SBOM, a report)')
    .argument('<ref>', 'the image to attach to: registry/repository:tag or @digest')
    .argument(
      '<file...>',
      'files, one layer each (FILE or FILE:MEDIA-TYPE; default application/octet-stream)',
    )
    .requiredOption('--artifact-type <type>', 'the artifact type, e.g. application/spdx+json (required)')
    .option('--annotation <key=value>', 'an annotation of the artifact manifest (repeatable)', collect)
    .action(async (refArgument: string, fileArguments: string[], _options: unknown, command: Command) => {
      const context = contextOf(runtime, command);
      const options = command.opts<{ artifactType: string; annotation?: string[] }>();
      const reference = imageReference(refArgument);
      const annotations = parseAnnotations(options.annotation);
      const paths = await Promise.all(fileArguments.map(pathArgument));
      const directory = paths.find((path) => path.kind === 'directory');
      if (directory !== undefined) {
        throw usageError(`"${directory.path}" is a directory; attach takes files`);
      }
      const client = context.client(reference.registry);
      const subject = await subjectOf(client, reference);
      const artifact = await client.referrers.attach(reference.repository, subject, {
        artifactType: options.artifactType,
        files: paths.map((path) => ({
          path: path.path,
          ...definedProps({ mediaType: path.suffix }),
        })),
        ...definedProps({ annotations }),
      });
      const manifest = await client.manifests.get(reference.repository, artifact.digest);
      const layers = isImageManifest(manifest) ? manifest.manifest.layers : [];
      const result: AttachResult = {
        registry: reference.registry,
        repository: reference.repository,
        subject,
        digest: artifact.digest,
        mediaType: artifact.mediaType,
        size: artifact.size,
        artifactType: options.artifactType,
        ...definedProps({ annotations }),
        files: paths.map((path, position) => ({
          path: path.path,
          digest: layers[position]?.digest ?? '',
          mediaType: layers[position]?.mediaType ?? '',
          size: layers[position]?.size ?? 0,
        })),
      };
      context.output.emit(result, () => [
        formatImage(result.registry, result.repository, undefined, result.digest),
      ]);
      context.output.note(
        `attached ${options.artifactType} to ${formatImage(result.registry, result.repository, undefined, subject.digest)}`,
      );
    });
};
