import { definedProps } from '@ghcr/oci-types';
import type { ReferrerRelation, RegistryGraph, RegistryGraphNode } from './graph.js';

/**
 * Who a manifest hangs from: an index that lists it (`child`) or a subject it refers to.
 * @internal
 */
export interface Anchor {
  readonly digest: string;
  readonly relation: 'child' | ReferrerRelation;
  readonly tag?: string;
}

/**
 * Reverse links of a graph, computed once for planning and validation.
 * @internal
 */
export interface GraphIndex {
  readonly graph: RegistryGraph;
  node(digest: string): RegistryGraphNode | undefined;
  /** Present manifests `digest` hangs from (index parents and subjects), deduplicated. */
  anchors(digest: string): readonly Anchor[];
  /** Present manifests hanging from `digest` (children, then referrers). */
  dependents(digest: string): readonly string[];
}

const REFERRERS_TAG = /^sha256-([a-f0-9]{64})$/;
const TRUNCATED_REFERRERS_TAG = /^sha512-[a-f0-9]{64}$/;
const COSIGN_TAG = /^sha256-([a-f0-9]{64})\.(sig|att|sbom)$/;

/**
 * What an attachment tag attaches to: the referrers fallback tag `sha256-<64 hex>` and cosign's
 * `sha256-<64 hex>.sig|.att|.sbom`. Stricter than `@ghcr/manifest`'s `parseReferrersTag` and
 * `parseCosignTag`, which accept any `<alg>-<ref>` the digest grammar allows (so `pr-9` would be
 * the referrers tag of `pr:9`): only sha256 digests of the exact length count here.
 * @internal
 */
export function attachmentOf(
  tag: string,
): { readonly subject: string; readonly relation: 'referrers-tag' | 'cosign-tag' } | undefined {
  const referrers = REFERRERS_TAG.exec(tag);
  if (referrers !== null) return { subject: `sha256:${referrers[1]}`, relation: 'referrers-tag' };
  const cosign = COSIGN_TAG.exec(tag);
  if (cosign !== null) return { subject: `sha256:${cosign[1]}`, relation: 'cosign-tag' };
  return undefined;
}

/**
 * True for tags that attach a manifest to another (see {@link attachmentOf}; a truncated sha512
 * referrers tag too): they do not make a version "tagged" for the rules.
 * @internal
 */
export function isAttachmentTag(tag: string): boolean {
  return attachmentOf(tag) !== undefined || TRUNCATED_REFERRERS_TAG.test(tag);
}

/** Builds the reverse links of a graph. @internal */
export function indexGraph(graph: RegistryGraph): GraphIndex {
  const anchors = new Map<string, Map<string, Anchor>>();
  const dependents = new Map<string, string[]>();
  const present = (digest: string): boolean => Object.hasOwn(graph.nodes, digest);
  const add = (from: string, to: string, anchor: Anchor): void => {
    let list = anchors.get(to);
    if (list === undefined) {
      list = new Map();
      anchors.set(to, list);
    }
    const key = `${anchor.digest}|${anchor.relation}`;
    if (list.has(key)) return;
    list.set(key, anchor);
    const forward = dependents.get(from);
    if (forward === undefined) dependents.set(from, [to]);
    else if (!forward.includes(to)) forward.push(to);
  };
  for (const node of Object.values(graph.nodes)) {
    for (const child of node.children) {
      if (present(child)) add(node.digest, child, { digest: node.digest, relation: 'child' });
    }
  }
  for (const [subject, links] of Object.entries(graph.referrers)) {
    if (!present(subject)) continue;
    for (const link of links) {
      if (!present(link.digest) || link.digest === subject) continue;
      add(subject, link.digest, {
        digest: subject,
        relation: link.via,
        ...definedProps({ tag: link.tag }),
      });
    }
  }
  return {
    graph,
    node: (digest) => (present(digest) ? graph.nodes[digest] : undefined),
    anchors: (digest) => [...(anchors.get(digest)?.values() ?? [])],
    dependents: (digest) => dependents.get(digest) ?? [],
  };
}

/**
 * Everything reachable from `roots` through {@link GraphIndex.dependents} (index → manifests,
 * subject → referrers, recursively): digest → the digest it was first reached from (undefined for
 * a root). Retention's closure: what a kept (or newly pushed) manifest needs.
 * @internal
 */
export function reachableFrom(index: GraphIndex, roots: Iterable<string>): Map<string, string | undefined> {
  const reached = new Map<string, string | undefined>();
  const queue: string[] = [];
  const visit = (digest: string, from: string | undefined): void => {
    if (reached.has(digest)) return;
    reached.set(digest, from);
    queue.push(digest);
  };
  for (const root of roots) visit(root, undefined);
  for (let head = 0; head < queue.length; head++) {
    const digest = queue[head] as string;
    for (const dependent of index.dependents(digest)) visit(dependent, digest);
  }
  return reached;
}
