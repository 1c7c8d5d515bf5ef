import { describe, expect, it } from 'vitest';
import { MODEL_NOW, ModelRepository } from '../../testing/model-repository.js';
import { retentionMermaid, retentionMermaidSection } from './mermaid.js';
import { planRetention } from './plan.js';

async function twoReleases(count = 2) {
  const repo = new ModelRepository();
  const releases = [];
  for (let i = 0; i < count; i++)
    releases.push(repo.multiArch({ tags: [`1.${i}.0`], ageDays: 20 - i, attestations: true }));
  const graph = await repo.graph();
  const plan = planRetention(repo.versionList(), graph, { keepNewestTagged: 1 }, MODEL_NOW);
  return { repo, releases, graph, plan };
}

describe('retentionMermaid', () => {
  it('draws index → platform manifests → attestations, coloured by decision, each with its reason', async () => {
    const { releases, graph, plan } = await twoReleases();
    const text = retentionMermaid(plan, graph);
    const lines = text.split('\n');
    expect(lines[0]).toBe('flowchart LR');
    // One node per version, and one edge per index entry (2 platforms + 2 attestations per index).
    const nodes = lines.filter((line) => /^ {2}v\d+\["/.test(line));
    expect(nodes).toHaveLength(plan.decisions.length);
    expect(lines.filter((line) => /^ {2}v\d+ --> v\d+$/.test(line))).toHaveLength(8);
    const old = nodes.find((line) => line.includes('1.0.0'));
    expect(old).toMatch(/:::delete$/);
    expect(old).toContain('🗑 index 1.0.0');
    const kept = nodes.find((line) => line.includes('1.1.0'));
    expect(kept).toMatch(/:::keep$/);
    expect(kept).toContain(
      `<br/>${plan.decisions.find((d) => d.tags.includes('1.1.0'))?.reasons[0]?.message.slice(0, 20)}`,
    );
    expect(nodes.filter((line) => line.includes('platform manifest')).length).toBe(4);
    expect(releases).toHaveLength(2);
    expect(text).toContain('classDef keep');
    expect(text).toContain('classDef delete');
  });

  it('folds a large plan into one node per image and kind, and counts the images beyond the limit', async () => {
    const { graph, plan } = await twoReleases(12);
    expect(plan.decisions.length).toBeGreaterThan(40);
    const text = retentionMermaid(plan, graph, { maxNodes: 10 });
    const lines = text.split('\n');
    // 5 images shown (half of maxNodes), each with its platform manifests and attestations grouped.
    expect(lines.filter((line) => /^ {2}v\d+\["/.test(line))).toHaveLength(5);
    expect(lines.some((line) => line.includes('2 platform manifests'))).toBe(true);
    expect(lines.some((line) => line.includes('more images deleted'))).toBe(true);
    expect(lines.length).toBeLessThan(40);
  });

  it('escapes quotes and angle brackets in labels, and the section wraps the diagram in <details>', async () => {
    const { graph, plan } = await twoReleases();
    const decisions = plan.decisions.map((decision, index) =>
      index === 0
        ? { ...decision, reasons: [{ rule: 'keep-tags' as const, message: 'tag "a<b>" kept' }] }
        : decision,
    );
    const text = retentionMermaid({ ...plan, decisions }, graph);
    expect(text).toContain('tag #quot;a#lt;b#gt;#quot; kept');
    expect(retentionMermaid(plan, graph)).toContain('#35;1 of keepNewestTagged');
    const section = retentionMermaidSection('octo-org/app', plan, graph, { open: true });
    expect(
      section.startsWith('<details open><summary>octo-org/app: keep 5, delete 5 of 10 versions</summary>'),
    ).toBe(true);
    expect(section).toContain('```mermaid\nflowchart LR');
  });
});
