/**
 * Test helpers: the runner's environment for a set of inputs, the outputs file read back, a SARIF
 * report attached to an image, and a complete pull of a tag.
 */

import type { GhcrClient } from '@ghcr/client';
import { isIndex, type ParsedManifest } from '@ghcr/manifest';

/** `INPUT_<NAME>` variables as the runner sets them (hyphens kept), plus anything else given. @internal */
export function actionEnvironment(
  inputs: Readonly<Record<string, string>>,
  extra: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const env: Record<string, string> = { ...extra };
  for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value;
  return env;
}

/** Reads a `GITHUB_OUTPUT` file (`name<<DELIMITER` … `DELIMITER` blocks) back into a record. @internal */
export function parseOutputsFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const header = /^([^<]+)<<(.+)$/.exec(lines[index] ?? '');
    if (header === null) continue;
    const [, name, delimiter] = header;
    const end = lines.indexOf(delimiter ?? '', index + 1);
    if (name === undefined || end < 0) throw new Error(`output block at line ${index + 1} is not closed`);
    outputs[name] = lines.slice(index + 1, end).join('\n');
    index = end;
  }
  return outputs;
}

/** Attaches a SARIF report with one finding (a Trivy-style result with a CVSS score) to an image. @internal */
export async function attachSarif(
  client: GhcrClient,
  repository: string,
  digest: string,
  ruleId: string,
  cvss: string,
): Promise<void> {
  const sarif = {
    version: '2.1.0',
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    runs: [
      {
        tool: {
          driver: {
            name: 'Trivy',
            rules: [{ id: ruleId, properties: { 'security-severity': cvss } }],
          },
        },
        results: [
          {
            ruleId,
            level: 'error',
            message: { text: 'Package: openssl\nInstalled Version: 3.0.1\nFixed Version: 3.0.7' },
          },
        ],
      },
    ],
  };
  await client.referrers.attach(repository, digest, {
    artifactType: 'application/sarif+json',
    files: [{ content: Buffer.from(JSON.stringify(sarif)), mediaType: 'application/sarif+json' }],
  });
}

/**
 * Pulls a tag completely: every manifest below it by digest and every blob, read to the end (the
 * client verifies digest and size while reading). Returns how many blobs were read.
 * @internal
 */
export async function pullCompletely(
  client: GhcrClient,
  repository: string,
  reference: string,
): Promise<number> {
  let blobs = 0;
  const walk = async (manifest: ParsedManifest): Promise<void> => {
    if (isIndex(manifest)) {
      for (const entry of manifest.manifest.manifests)
        await walk(await client.manifests.get(repository, entry.digest));
      return;
    }
    for (const descriptor of [manifest.manifest.config, ...manifest.manifest.layers]) {
      for await (const _chunk of client.blobs.get(repository, descriptor)) {
        // read to the end: a missing or corrupt blob throws
      }
      blobs += 1;
    }
  };
  await walk(await client.manifests.get(repository, reference));
  return blobs;
}
