/**
 * Test helper (not exported from the package): generated packages for property tests — a list of
 * operations (images, multi-arch releases, nested indexes, referrers, cosign tags, placeholders,
 * moving tags, removed manifests) and a random policy, built into a {@link ModelRepository}.
 */

import type { Digest } from '@ghcr/oci-types';
import { definedProps } from '@ghcr/oci-types';
import fc from 'fast-check';
import type { RetentionPolicy } from '../github/retention/policy.js';
import { DAY, ModelRepository } from './model-repository.js';

/** Tag names the generated packages use. @internal */
export const TAGS = [
  'latest',
  'v1',
  'v1.0',
  'v2',
  'v2.1',
  'pr-1',
  'pr-2',
  'pr-3',
  'dev',
  'nightly',
  'stable',
  'rc-1',
  'build-7',
];

/** One step of building a package. @internal */
export type Op =
  | { readonly op: 'image'; readonly age: number; readonly touched: number; readonly tags: string[] }
  | {
      readonly op: 'multiArch';
      readonly age: number;
      readonly platforms: number;
      readonly attestations: boolean;
      readonly tags: string[];
    }
  | { readonly op: 'index'; readonly age: number; readonly children: number[]; readonly tags: string[] }
  | { readonly op: 'artifact'; readonly age: number; readonly subject: number }
  | {
      readonly op: 'cosign';
      readonly age: number;
      readonly subject: number;
      readonly kind: 'sig' | 'att' | 'sbom';
    }
  | { readonly op: 'referrers'; readonly age: number; readonly subject: number; readonly referrers: number[] }
  | { readonly op: 'placeholder'; readonly age: number }
  | { readonly op: 'retag'; readonly tag: string; readonly target: number }
  | { readonly op: 'remove'; readonly target: number };

const age = fc.double({ min: 0, max: 120, noNaN: true });
const tags = fc.subarray(TAGS, { maxLength: 3 });
const pick = fc.nat(1000);
/** @internal */
export const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('image' as const), age, touched: age, tags }) },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('multiArch' as const),
      age,
      platforms: fc.integer({ min: 1, max: 3 }),
      attestations: fc.boolean(),
      tags,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('index' as const),
      age,
      children: fc.array(pick, { minLength: 1, maxLength: 3 }),
      tags,
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('artifact' as const), age, subject: pick }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('cosign' as const),
      age,
      subject: pick,
      kind: fc.constantFrom('sig' as const, 'att' as const, 'sbom' as const),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('referrers' as const),
      age,
      subject: pick,
      referrers: fc.array(pick, { maxLength: 2 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('placeholder' as const), age }) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('retag' as const), tag: fc.constantFrom(...TAGS), target: pick }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('remove' as const), target: pick }) },
);

/** A package and a policy. @internal */
export interface Scenario {
  readonly ops: Op[];
  readonly unreadable: number | undefined;
  readonly policy: {
    readonly keepNewestTagged: number | undefined;
    readonly keepNewestUntagged: number | undefined;
    readonly keepTags: string[];
    readonly deleteTags: string[];
    readonly olderThan: string | number | undefined;
    readonly timestamp: 'created_at' | 'updated_at';
    readonly untaggedOnly: boolean;
    readonly keepDigest: number | undefined;
  };
}

/** @internal */
export const scenarioArbitrary: fc.Arbitrary<Scenario> = fc.record({
  ops: fc.array(opArbitrary, { minLength: 1, maxLength: 14 }),
  unreadable: fc.option(pick, { nil: undefined, freq: 25 }),
  policy: fc.record({
    keepNewestTagged: fc.option(fc.nat(4), { nil: undefined }),
    keepNewestUntagged: fc.option(fc.nat(3), { nil: undefined }),
    keepTags: fc.subarray(['latest', 'v*', '/^v\\d+$/', 'stable', 'sha256-*', 'rc-?']),
    deleteTags: fc.subarray(['pr-*', 'dev', '/^rc-/', 'nightly', 'build-?', '*']),
    olderThan: fc.option(fc.constantFrom('12h', '1d', '7d', '30d', 0, 90 * DAY), { nil: undefined }),
    timestamp: fc.constantFrom('created_at' as const, 'updated_at' as const),
    untaggedOnly: fc.boolean(),
    keepDigest: fc.option(pick, { nil: undefined, freq: 4 }),
  }),
});

/** Builds a scenario into a model repository and a policy. @internal */
export function build(scenario: Scenario): { repo: ModelRepository; policy: RetentionPolicy } {
  const repo = new ModelRepository();
  const made: Digest[] = [];
  const at = (index: number): Digest | undefined =>
    made.length === 0 ? undefined : made[index % made.length];
  for (const op of scenario.ops) {
    switch (op.op) {
      case 'image':
        made.push(
          repo.image({ ageDays: op.age, updatedDaysAgo: Math.min(op.age, op.touched), tags: op.tags }),
        );
        break;
      case 'multiArch': {
        const release = repo.multiArch({
          ageDays: op.age,
          platforms: op.platforms,
          attestations: op.attestations,
          tags: op.tags,
        });
        made.push(release.index, ...release.images, ...release.attestations);
        break;
      }
      case 'index': {
        const children = [...new Set(op.children.map(at).filter((d): d is Digest => d !== undefined))];
        if (children.length > 0) made.push(repo.index(children, { ageDays: op.age, tags: op.tags }));
        break;
      }
      case 'artifact': {
        const subject = at(op.subject);
        if (subject !== undefined) made.push(repo.artifact(subject, { ageDays: op.age }));
        break;
      }
      case 'cosign': {
        const subject = at(op.subject);
        if (subject !== undefined) made.push(repo.cosign(subject, op.kind, { ageDays: op.age }));
        break;
      }
      case 'referrers': {
        const subject = at(op.subject);
        const referrers = [...new Set(op.referrers.map(at).filter((d): d is Digest => d !== undefined))];
        if (subject !== undefined) made.push(repo.referrersIndex(subject, referrers, { ageDays: op.age }));
        break;
      }
      case 'placeholder':
        made.push(repo.placeholder({ ageDays: op.age }));
        break;
      case 'retag': {
        const target = at(op.target);
        if (target !== undefined && repo.manifests.has(target)) repo.tag(op.tag, target);
        break;
      }
      case 'remove': {
        const target = at(op.target);
        if (target !== undefined) repo.remove(target);
        break;
      }
    }
  }
  if (scenario.unreadable !== undefined) {
    const target = at(scenario.unreadable);
    if (target !== undefined && repo.manifests.has(target)) repo.unreadable.add(target);
  }
  const p = scenario.policy;
  const keepDigest = p.keepDigest === undefined ? undefined : at(p.keepDigest);
  const policy: RetentionPolicy = {
    keepTags: p.keepTags,
    deleteTags: p.deleteTags,
    timestamp: p.timestamp,
    untaggedOnly: p.untaggedOnly,
    ...definedProps({
      keepNewestTagged: p.keepNewestTagged,
      keepNewestUntagged: p.keepNewestUntagged,
      olderThan: p.olderThan,
    }),
    ...(keepDigest === undefined ? {} : { keepDigests: [keepDigest] }),
  };
  return { repo, policy };
}
