/**
 * Test helpers of the vulnerability capability: fixtures, DSSE envelopes, and a `listReports`
 * over the registry's fallback tags. Not part of the published API.
 */
import { readFileSync } from 'node:fs';
import { cosignTagsFor, isIndex, referrersTagFor } from '@ghcr/manifest';
import { type Descriptor, NotFoundError } from '@ghcr/oci-types';
import type { GhcrClient } from '../../client.js';
import { createClientEvents } from '../../events.js';
import { resolveClientSettings } from '../../options.js';
import type { ClientContext } from '../../registry/context.js';
import {
  createVulnerabilities,
  type ListReports,
  type Vulnerabilities,
  type VulnerabilitiesDependencies,
} from './vulnerabilities.js';

/** A fixture of `__fixtures__/`, parsed (a fresh copy on each call). @internal */
export function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url), 'utf8'));
}

/** The cosign vuln statement fixture, attesting `digest`. @internal */
export function vulnStatement(digest: string): Record<string, unknown> {
  const text = readFileSync(new URL('./__fixtures__/cosign-vuln-statement.json', import.meta.url), 'utf8');
  return JSON.parse(text.replaceAll('SUBJECT_HEX', digest.slice(digest.indexOf(':') + 1)));
}

/** A DSSE envelope over `statement`, as cosign writes it (the signature is not a real one). @internal */
export function envelopeOf(
  statement: unknown,
  payloadType = 'application/vnd.in-toto+json',
): Record<string, unknown> {
  return {
    payloadType,
    payload: Buffer.from(JSON.stringify(statement)).toString('base64'),
    signatures: [{ keyid: '', sig: Buffer.from('not a real signature').toString('base64') }],
  };
}

/**
 * `listReports` over the tag fallbacks, as a registry without the referrers API (ghcr.io) needs:
 * the entries of the `sha256-<hex>` index and the `sha256-<hex>.att` manifest.
 * @internal
 */
export function fallbackListReports(client: GhcrClient): ListReports {
  return async (repository, digest, options) => {
    const found: Descriptor[] = [];
    try {
      const index = await client.manifests.get(repository, referrersTagFor(digest), options);
      if (isIndex(index)) found.push(...index.manifest.manifests);
    } catch (error) {
      if (!NotFoundError.isInstance(error)) throw error;
    }
    const attestation = await client.manifests.head(repository, cosignTagsFor(digest).attestation, options);
    if (attestation !== undefined) found.push(attestation);
    return found;
  };
}

/**
 * The vulnerability capability over `client`'s parts, wired as client.ts wires capabilities (its
 * transport and settings, an own event emitter), with `listReports` over the fallback tags unless given.
 * @internal
 */
export function vulnerabilitiesFor(
  client: GhcrClient,
  dependencies: Partial<VulnerabilitiesDependencies> = {},
): Vulnerabilities {
  const context: ClientContext = {
    settings: resolveClientSettings({ ...client.options, transport: client.transport }),
    transport: client.transport,
    events: createClientEvents(),
  };
  return createVulnerabilities(context, {
    manifests: client.manifests,
    blobs: client.blobs,
    listReports: fallbackListReports(client),
    ...dependencies,
  });
}
