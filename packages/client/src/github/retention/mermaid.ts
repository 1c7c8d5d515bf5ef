import type { RegistryGraph } from './graph.js';
import type { RetentionDecision, RetentionPlan } from './plan.js';

/**
 * Options of {@link retentionMermaid}.
 * @public
 */
export interface RetentionMermaidOptions {
  /**
   * Above this many versions the diagram is folded: each image becomes one node for itself and one
   * per kind and decision of what hangs from it ("3 platform manifests"), and beyond half as many
   * images the rest are counted in one node per decision. If omitted, 40.
   */
  readonly maxNodes?: number | undefined;
  /** Longest reason text in a node, in characters. If omitted, 60. */
  readonly maxReasonLength?: number | undefined;
}

/** Mermaid classes: GitHub's success and danger colours. */
const CLASS_DEFS = [
  'classDef keep fill:#dafbe1,stroke:#1a7f37,color:#0a3622',
  'classDef delete fill:#ffebe9,stroke:#cf222e,color:#5c0011,stroke-dasharray:4 2',
];

/** Text inside a quoted Mermaid label: `#`, quotes and angle brackets as entity codes. */
function label(text: string): string {
  return text
    .replace(/#/g, '#35;')
    .replace(/"/g, '#quot;')
    .replace(/</g, '#lt;')
    .replace(/>/g, '#gt;')
    .replace(/[\r\n]+/g, ' ');
}

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(1, max - 1))}…`;
}

const shortDigest = (digest: string): string => digest.replace(/^(sha256:[0-9a-f]{12})[0-9a-f]*$/, '$1');

/** An attachment tag (`sha256-<hex>.sig`) shortened for a node. */
const shortTag = (tag: string): string => tag.replace(/^(sha256-[0-9a-f]{12})[0-9a-f]{52}/, '$1…');

/** The edges between versions: index → its manifests, subject → its referrers. */
function versionEdges(
  graph: RegistryGraph,
  byDigest: ReadonlyMap<string, RetentionDecision>,
): { from: string; to: string; via: string }[] {
  const edges: { from: string; to: string; via: string }[] = [];
  const seen = new Set<string>();
  const add = (from: string, to: string, via: string): void => {
    const key = `${from}>${to}`;
    if (from === to || seen.has(key) || !byDigest.has(from) || !byDigest.has(to)) return;
    seen.add(key);
    edges.push({ from, to, via });
  };
  for (const node of Object.values(graph.nodes)) {
    for (const child of node.children) add(node.digest, child, '');
  }
  for (const [subject, links] of Object.entries(graph.referrers)) {
    for (const link of links) add(subject, link.digest, link.via);
  }
  return edges;
}

function kindOf(decision: RetentionDecision, parent: boolean, graph: RegistryGraph): string {
  const node = graph.nodes[decision.digest];
  if (decision.kind === 'index') return 'index';
  if (decision.tags.some((tag) => tag.endsWith('.sig'))) return 'signature';
  if (decision.tags.some((tag) => tag.endsWith('.sbom'))) return 'sbom';
  if (decision.kind === 'artifact') return node?.artifactType === undefined ? 'attestation' : 'artifact';
  if (decision.kind === 'image' && parent) return 'platform manifest';
  return decision.kind;
}

const PLURAL: Record<string, string> = {
  index: 'indexes',
  attestation: 'attestations',
  signature: 'signatures',
  sbom: 'SBOMs',
  artifact: 'attestations and signatures',
  'platform manifest': 'platform manifests',
  image: 'images',
  placeholder: 'placeholders',
  unknown: 'unreadable',
};

/**
 * Draws a retention plan as a Mermaid flowchart (GitHub renders ```` ```mermaid ```` blocks in
 * Markdown and job summaries): each version a node, from an index to its platform manifests and
 * from an image to its attestations and signatures, green when kept and red (dashed) when
 * deleted, each with its tags and the reason it is kept or deleted. Large plans are folded (see
 * {@link RetentionMermaidOptions.maxNodes}). Returns the diagram's source without the fence.
 * @public
 */
export function retentionMermaid(
  plan: RetentionPlan,
  graph: RegistryGraph,
  options: RetentionMermaidOptions = {},
): string {
  const maxNodes = Math.max(4, options.maxNodes ?? 40);
  const maxReason = Math.max(10, options.maxReasonLength ?? 60);
  const byDigest = new Map(plan.decisions.map((decision) => [decision.digest, decision]));
  const edges = versionEdges(graph, byDigest);
  const hasParent = new Set(edges.map((edge) => edge.to));
  const lines = ['flowchart LR'];
  const idOf = new Map(plan.decisions.map((decision, index) => [decision.digest, `v${index}`]));

  const nodeText = (decision: RetentionDecision): string => {
    const tags = decision.tags.map(shortTag).join(', ');
    const what = `${kindOf(decision, hasParent.has(decision.digest), graph)} ${tags === '' ? shortDigest(decision.digest) : tags}`;
    const why = shorten(decision.reasons[0]?.message ?? '', maxReason);
    return `${label(`${decision.action === 'delete' ? '🗑 ' : ''}${what}`)}${why === '' ? '' : `<br/>${label(why)}`}`;
  };
  const classOf = (decision: RetentionDecision): string => (decision.action === 'delete' ? 'delete' : 'keep');

  if (plan.decisions.length <= maxNodes) {
    for (const decision of plan.decisions) {
      lines.push(`  ${idOf.get(decision.digest)}["${nodeText(decision)}"]:::${classOf(decision)}`);
    }
    for (const edge of edges) {
      const arrow = edge.via === '' ? '-->' : `-.->|${label(edge.via)}|`;
      lines.push(`  ${idOf.get(edge.from)} ${arrow} ${idOf.get(edge.to)}`);
    }
    return [...lines, ...CLASS_DEFS.map((line) => `  ${line}`)].join('\n');
  }

  // Folded: images (versions nothing else points at) with what hangs from them counted by kind.
  const childrenOf = new Map<string, string[]>();
  for (const edge of edges) childrenOf.set(edge.from, [...(childrenOf.get(edge.from) ?? []), edge.to]);
  const roots = plan.decisions.filter((decision) => !hasParent.has(decision.digest));
  const claimed = new Set(roots.map((root) => root.digest));
  const shownRoots = Math.max(2, Math.floor(maxNodes / 2));
  let counter = 0;
  const rest = { keep: { images: 0, versions: 0 }, delete: { images: 0, versions: 0 } };
  for (const [position, root] of roots.entries()) {
    const dependents: RetentionDecision[] = [];
    const queue = [...(childrenOf.get(root.digest) ?? [])];
    while (queue.length > 0) {
      const digest = queue.shift() as string;
      if (claimed.has(digest)) continue;
      claimed.add(digest);
      const decision = byDigest.get(digest);
      if (decision === undefined) continue;
      dependents.push(decision);
      queue.push(...(childrenOf.get(digest) ?? []));
    }
    if (position >= shownRoots) {
      const bucket = rest[classOf(root) as 'keep' | 'delete'];
      bucket.images += 1;
      bucket.versions += 1 + dependents.length;
      continue;
    }
    const rootId = idOf.get(root.digest) as string;
    lines.push(`  ${rootId}["${nodeText(root)}"]:::${classOf(root)}`);
    const groups = new Map<string, { count: number; action: string; reason: string }>();
    for (const dependent of dependents) {
      const kind = kindOf(dependent, true, graph);
      const key = `${kind}|${dependent.action}`;
      const group = groups.get(key) ?? {
        count: 0,
        action: dependent.action,
        reason: dependent.reasons[0]?.rule ?? '',
      };
      group.count += 1;
      groups.set(key, group);
    }
    for (const [key, group] of groups) {
      const kind = key.split('|')[0] ?? '';
      const id = `g${counter++}`;
      const noun = group.count === 1 ? kind : (PLURAL[kind] ?? kind);
      const text = `${label(`${group.action === 'delete' ? '🗑 ' : ''}${group.count} ${noun}`)}<br/>${label(group.reason)}`;
      lines.push(`  ${id}["${text}"]:::${group.action === 'delete' ? 'delete' : 'keep'}`);
      lines.push(`  ${rootId} --> ${id}`);
    }
  }
  for (const action of ['keep', 'delete'] as const) {
    const bucket = rest[action];
    if (bucket.images === 0) continue;
    const text = `${label(`${action === 'delete' ? '🗑 ' : ''}… ${bucket.images} more image${bucket.images === 1 ? '' : 's'} ${action === 'delete' ? 'deleted' : 'kept'}`)}<br/>${bucket.versions} versions in all`;
    lines.push(`  more_${action}["${text}"]:::${action}`);
  }
  return [...lines, ...CLASS_DEFS.map((line) => `  ${line}`)].join('\n');
}

/**
 * One package's plan as Markdown: a heading line with the counts, then the Mermaid diagram, inside
 * `<details>` (open when `open`), the way the GitHub Action's job summary and `ghcr cleanup
 * --summary` show it.
 * @public
 */
export function retentionMermaidSection(
  repository: string,
  plan: RetentionPlan,
  graph: RegistryGraph,
  options: RetentionMermaidOptions & { readonly open?: boolean } = {},
): string {
  const { summary } = plan;
  const folded = summary.versions > (options.maxNodes ?? 40) ? ' (folded)' : '';
  const title = `${repository}: keep ${summary.keep}, delete ${summary.delete} of ${summary.versions} versions${folded}`;
  return [
    `<details${options.open === true ? ' open' : ''}><summary>${title.replace(/</g, '&lt;')}</summary>`,
    '',
    '```mermaid',
    retentionMermaid(plan, graph, options),
    '```',
    '',
    '</details>',
  ].join('\n');
}
