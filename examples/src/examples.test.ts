import { createManualClock } from '@ghcr/oci-types';
import { createSimulation } from '@ghcr/simulation';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type ExampleTarget } from './connect.js';
import { listTags } from './list-tags.js';
import { createMultiArchImage } from './multi-arch.js';
import { pushWithTags } from './push-and-tag.js';
import { attachScan, securityGate } from './security-gate.js';

let target: ExampleTarget | undefined;
const fresh = (): ExampleTarget => {
  target = connect({}, createSimulation({ profile: 'ghcr', clock: createManualClock() }));
  return target;
};
afterEach(async () => {
  await target?.close();
});

describe('examples (seed §7 patterns) against the GHCR simulation', () => {
  it('push-and-tag: one manifest under three tags', async () => {
    const t = fresh();
    const result = await pushWithTags(t);
    const tags = await listTags(t, result.repository);
    expect(tags.sort()).toEqual(['1.0', '1.0.0', 'latest']);
    for (const tag of tags)
      expect((await t.client.manifests.head(result.repository, tag))?.digest).toBe(result.digest);
    // The first push created the package under the organisation, as on ghcr.io.
    const versions = await t.client.versions.list(result.repository);
    expect(versions.map((v) => v.name)).toContain(result.digest);
  });

  it('multi-arch: an index with real sizes and the platforms read from the configs', async () => {
    const t = fresh();
    const result = await createMultiArchImage(t);
    expect(result.platforms.sort()).toEqual(['linux/amd64', 'linux/arm64/v8']);
    const index = await t.client.manifests.get(result.repository, result.tag);
    expect(index.kind).toBe('oci-index');
    if (index.kind !== 'oci-index') return;
    for (const entry of index.manifest.manifests) {
      const child = await t.client.manifests.get(result.repository, entry.digest);
      expect(entry.size).toBe(child.size);
    }
  });

  it('security-gate: blocked on a critical finding, passes when ignored, fails closed without reports', async () => {
    const t = fresh();
    const pushed = await pushWithTags(t);
    const reference = `ghcr.io/${pushed.repository}@${pushed.digest}`;
    // The SARIF report attached here is unsigned: the trusting mode is asked for explicitly.
    const unscanned = await securityGate(t, reference, { allowUnverified: true });
    expect(unscanned.passed).toBe(false);
    expect(unscanned.reports).toHaveLength(0);

    await attachScan(t, pushed.repository, pushed.digest, 'CVE-2022-3602', '9.8');
    const blocked = await securityGate(t, reference, { allowUnverified: true }, 'high');
    expect((await securityGate(t, reference, {})).reason).toMatch(
      /^blocked: no verified vulnerability report/,
    );
    expect(blocked.passed).toBe(false);
    expect(blocked.blocking.map((v) => [v.id, v.severity])).toEqual([['CVE-2022-3602', 'critical']]);
    const ignored = await t.client.vulnerabilities.gate(reference, {
      failOn: 'high',
      ignore: ['CVE-2022-3602'],
      allowUnverified: true,
    });
    expect(ignored.passed).toBe(true);
  });
});
