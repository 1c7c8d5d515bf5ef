import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type * as z from 'zod';
import { digestOf } from './digest.js';
import {
  annotationsSchema,
  compareSeverity,
  containerConfigSchema,
  descriptorSchema,
  digestSchema,
  distributionErrorBodySchema,
  dockerManifestListSchema,
  dockerManifestSchema,
  githubErrorBodySchema,
  githubPackageSchema,
  historySchema,
  imageConfigSchema,
  normalizeSeverity,
  ociImageIndexSchema,
  ociImageManifestSchema,
  packageOwnerSchema,
  packageVersionSchema,
  packageVisibilitySchema,
  platformSchema,
  SEVERITIES,
  type Severity,
  severityRank,
  severitySchema,
  vulnerabilitySchema,
} from './schemas.js';

// The real registry responses of /fixtures (see fixtures/README.md: skopeo and buildah against
// docker-registry 2.8.2), read from the repository root.
const fixtureUrl = (path: string): URL => new URL(`../../../fixtures/${path}`, import.meta.url);
const fixtureBytes = (path: string): Buffer => readFileSync(fixtureUrl(path));
const fixtureJson = (path: string): Record<string, unknown> =>
  JSON.parse(fixtureBytes(path).toString('utf8')) as Record<string, unknown>;

const D = (c: string): string => `sha256:${c.repeat(64)}`;

/** A copy of `value` with the dotted `path` removed. */
function without(value: unknown, path: string): unknown {
  const copy = structuredClone(value) as Record<string, unknown>;
  const keys = path.split('.');
  let target: Record<string, unknown> = copy;
  for (const key of keys.slice(0, -1)) target = target[key] as Record<string, unknown>;
  delete target[keys.at(-1) as string];
  return copy;
}

/** A copy of `value` with the dotted `path` set to `replacement`. */
function withField(value: unknown, path: string, replacement: unknown): unknown {
  const copy = structuredClone(value) as Record<string, unknown>;
  const keys = path.split('.');
  let target: Record<string, unknown> = copy;
  for (const key of keys.slice(0, -1)) target = target[key] as Record<string, unknown>;
  target[keys.at(-1) as string] = replacement;
  return copy;
}

/** Asserts that the schema refuses `value`, and that a zod issue points at `path` (or inside it). */
function expectRejected(schema: z.ZodType, value: unknown, path: string): void {
  const result = schema.safeParse(value);
  expect(result.success, `expected rejection at ${path}`).toBe(false);
  if (result.success) return;
  const paths = result.error.issues.map((issue) => issue.path.join('.'));
  const hit = paths.some((p) => p === path || p.startsWith(`${path}.`));
  expect(hit, `issues at ${JSON.stringify(paths)}, expected ${path}`).toBe(true);
}

describe('real fixtures', () => {
  const manifests: readonly [string, z.ZodType][] = [
    ['manifests/oci-image-manifest.json', ociImageManifestSchema],
    ['manifests/oci-image-manifest-arm64.json', ociImageManifestSchema],
    ['manifests/oci-index-2-platforms.json', ociImageIndexSchema],
    ['manifests/docker-v2s2-manifest.json', dockerManifestSchema],
    ['manifests/docker-manifest-list-2-platforms.json', dockerManifestListSchema],
    ['configs/oci-config-amd64.json', imageConfigSchema],
    ['configs/docker-config-amd64.json', imageConfigSchema],
    ['oci-layout-multi/index.json', ociImageIndexSchema],
  ];

  it.each(manifests)('%s parses', (path, schema) => {
    const json = fixtureJson(path);
    const parsed = schema.parse(json);
    // Loose objects: nothing is dropped, nothing is added.
    expect(parsed).toEqual(json);
  });

  it('the fixtures are the bytes the registry served (their digests match the headers)', () => {
    for (const file of readdirSync(fixtureUrl('manifests/')).filter((name) => name.endsWith('.json'))) {
      const headers = fixtureBytes(`manifests/${file}.headers`).toString('utf8');
      const digest = /Docker-Content-Digest: (\S+)/.exec(headers)?.[1];
      expect(digestOf(fixtureBytes(`manifests/${file}`)), file).toBe(digest);
    }
  });

  it('reads what matters from the OCI image manifest', () => {
    const manifest = ociImageManifestSchema.parse(fixtureJson('manifests/oci-image-manifest.json'));
    expect(manifest.config.mediaType).toBe('application/vnd.oci.image.config.v1+json');
    expect(manifest.config.size).toBe(459);
    expect(manifest.layers.map((layer) => layer.size)).toEqual([139, 138]);
    expect(manifest.annotations?.['org.opencontainers.image.created']).toBe('2026-01-01T00:00:00Z');
  });

  it('reads platforms and annotations from the index', () => {
    const index = ociImageIndexSchema.parse(fixtureJson('manifests/oci-index-2-platforms.json'));
    expect(index.manifests.map((m) => m.platform)).toEqual([
      { architecture: 'amd64', os: 'linux' },
      { architecture: 'arm64', os: 'linux', variant: 'v8' },
    ]);
    expect(index.manifests[1]?.annotations).toEqual({ 'org.opencontainers.image.description': 'fixture' });
  });

  it('reads labels, env, cmd, rootfs and history from the configs', () => {
    for (const path of ['configs/oci-config-amd64.json', 'configs/docker-config-amd64.json']) {
      const config = imageConfigSchema.parse(fixtureJson(path));
      expect(config.architecture).toBe('amd64');
      expect(config.os).toBe('linux');
      expect(config.created).toBe('2026-01-01T00:00:00Z');
      expect(config.config?.Labels).toEqual({
        'org.opencontainers.image.source': 'https://github.com/example/app',
      });
      expect(config.config?.Env).toEqual(['PATH=/usr/bin']);
      expect(config.config?.Cmd).toEqual(['/bin/sh']);
      expect(config.rootfs.type).toBe('layers');
      expect(config.rootfs.diff_ids).toHaveLength(2);
      expect(config.history).toEqual([{ created: '2026-01-01T00:00:00Z', created_by: 'fixture' }]);
    }
  });

  it('parses every JSON blob of the OCI layout with the schema its descriptor names', () => {
    const layoutIndex = ociImageIndexSchema.parse(fixtureJson('oci-layout-multi/index.json'));
    const blob = (digest: string): Record<string, unknown> =>
      JSON.parse(
        fixtureBytes(`oci-layout-multi/blobs/sha256/${digest.slice('sha256:'.length)}`).toString('utf8'),
      ) as Record<string, unknown>;
    let parsedConfigs = 0;
    for (const top of layoutIndex.manifests) {
      const index = ociImageIndexSchema.parse(blob(top.digest));
      for (const child of index.manifests) {
        expect(child.platform?.os).toBe('linux');
        const manifest = ociImageManifestSchema.parse(blob(child.digest));
        expect(imageConfigSchema.parse(blob(manifest.config.digest)).architecture).toBe(
          child.platform?.architecture,
        );
        parsedConfigs++;
      }
    }
    expect(parsedConfigs).toBe(2);
  });
});

// Hand-made documents, each valid, then broken one field at a time.
const descriptor = {
  mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
  digest: D('a'),
  size: 32,
};
const ociManifest = {
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: D('b'), size: 2 },
  layers: [descriptor],
};
const ociIndex = {
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.index.v1+json',
  manifests: [
    {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: D('c'),
      size: 100,
      platform: { architecture: 'amd64', os: 'linux' },
    },
  ],
};
const dockerManifest = {
  schemaVersion: 2,
  mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
  config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: D('b'), size: 2 },
  layers: [{ ...descriptor, mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip' }],
};
const dockerList = {
  schemaVersion: 2,
  mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json',
  manifests: [
    {
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      digest: D('c'),
      size: 100,
      platform: { architecture: 'arm64', os: 'linux', variant: 'v8' },
    },
  ],
};
const imageConfig = {
  architecture: 'amd64',
  os: 'linux',
  rootfs: { type: 'layers', diff_ids: [D('d')] },
};

describe('descriptorSchema', () => {
  it('accepts every optional field of the image spec', () => {
    const full = {
      ...descriptor,
      urls: ['https://example.com/layer'],
      annotations: { 'org.opencontainers.image.title': 'layer.tar.gz' },
      data: 'e30=',
      artifactType: 'application/vnd.example+type',
      platform: {
        architecture: 'arm',
        os: 'linux',
        variant: 'v7',
        'os.version': '1',
        'os.features': ['x'],
        features: ['y'],
      },
      'com.example.unknown': true, // unknown fields are kept, as the spec requires
    };
    expect(descriptorSchema.parse(full)).toEqual(full);
  });

  it.each(['mediaType', 'digest', 'size'])('requires %s', (field) => {
    expectRejected(descriptorSchema, without(descriptor, field), field);
  });

  it.each([
    ['size', '32'],
    ['size', -1],
    ['size', 1.5],
    ['mediaType', ''],
    ['mediaType', 7],
    ['digest', 'sha256:abc'],
    ['digest', D('A')],
    ['digest', 'md5'],
    ['urls', 'https://x'],
    ['annotations', { key: 1 }],
    ['data', 42],
    ['artifactType', null],
    ['platform', { os: 'linux' }],
  ])('refuses %s = %j', (field, value) => {
    expectRejected(descriptorSchema, withField(descriptor, field, value), field.split('.')[0] ?? field);
  });

  it('explains a bad digest', () => {
    const result = digestSchema.safeParse('sha256:nope');
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toContain('must be a digest such as sha256:');
  });
});

describe('platformSchema', () => {
  it('requires architecture and os, non-empty', () => {
    expect(platformSchema.parse({ architecture: 'amd64', os: 'linux' })).toEqual({
      architecture: 'amd64',
      os: 'linux',
    });
    expectRejected(platformSchema, { os: 'linux' }, 'architecture');
    expectRejected(platformSchema, { architecture: 'amd64' }, 'os');
    expectRejected(platformSchema, { architecture: '', os: 'linux' }, 'architecture');
    expectRejected(platformSchema, { architecture: 'arm', os: 'linux', variant: 7 }, 'variant');
    expectRejected(
      platformSchema,
      { architecture: 'amd64', os: 'windows', 'os.features': 'win32k' },
      'os.features',
    );
  });
});

describe('OCI image manifest', () => {
  it('accepts an artifact manifest with artifactType, subject and annotations', () => {
    const artifact = {
      ...ociManifest,
      artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: D('4'), size: 2 },
      subject: { mediaType: 'application/vnd.oci.image.index.v1+json', digest: D('e'), size: 500 },
      annotations: { 'org.opencontainers.image.created': '2026-01-01T00:00:00Z' },
    };
    expect(ociImageManifestSchema.parse(artifact)).toEqual(artifact);
    expect(ociImageManifestSchema.parse(without(ociManifest, 'mediaType'))).toBeTruthy();
  });

  it.each(['schemaVersion', 'config', 'layers', 'config.digest', 'config.size', 'config.mediaType'])(
    'requires %s',
    (field) => {
      expectRejected(ociImageManifestSchema, without(ociManifest, field), field);
    },
  );

  it.each([
    ['schemaVersion', 1],
    ['schemaVersion', '2'],
    ['mediaType', 'application/vnd.oci.image.index.v1+json'],
    ['layers', {}],
    ['layers', [{ ...descriptor, digest: 'sha256:short' }]],
    ['subject', { mediaType: 'x', digest: D('e') }],
    ['annotations', { a: ['b'] }],
    ['artifactType', 1],
  ])('refuses %s = %j', (field, value) => {
    const result = ociImageManifestSchema.safeParse(withField(ociManifest, field, value));
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path[0]).toBe(field);
  });
});

describe('OCI image index', () => {
  it('accepts artifactType, subject and annotations', () => {
    const full = {
      ...ociIndex,
      artifactType: 'application/vnd.example',
      subject: descriptor,
      annotations: { 'org.opencontainers.image.description': 'multi-arch' },
    };
    expect(ociImageIndexSchema.parse(full)).toEqual(full);
  });

  it('accepts entries without a platform (attestation bundles at sha256-<hex> tags have none)', () => {
    expect(ociImageIndexSchema.parse(withField(ociIndex, 'manifests', [descriptor])).manifests).toHaveLength(
      1,
    );
  });

  it.each(['schemaVersion', 'manifests'])('requires %s', (field) => {
    expectRejected(ociImageIndexSchema, without(ociIndex, field), field);
  });

  it('refuses a bad entry', () => {
    expectRejected(
      ociImageIndexSchema,
      withField(ociIndex, 'manifests', [{ ...descriptor, size: 'big' }]),
      'manifests.0.size',
    );
    expectRejected(
      ociImageIndexSchema,
      withField(ociIndex, 'mediaType', 'application/vnd.oci.image.manifest.v1+json'),
      'mediaType',
    );
  });
});

describe('Docker manifests', () => {
  it('parse valid documents', () => {
    expect(dockerManifestSchema.parse(dockerManifest)).toEqual(dockerManifest);
    expect(dockerManifestListSchema.parse(dockerList)).toEqual(dockerList);
  });

  it.each(['schemaVersion', 'mediaType', 'config', 'layers'])('the v2s2 manifest requires %s', (field) => {
    expectRejected(dockerManifestSchema, without(dockerManifest, field), field);
  });

  it.each(['schemaVersion', 'mediaType', 'manifests'])('the manifest list requires %s', (field) => {
    expectRejected(dockerManifestListSchema, without(dockerList, field), field);
  });

  it('the manifest list requires a platform on every entry', () => {
    const entry = dockerList.manifests[0];
    expectRejected(
      dockerManifestListSchema,
      withField(dockerList, 'manifests', [without(entry, 'platform')]),
      'manifests.0.platform',
    );
  });

  it('refuses the other media type or schema 1', () => {
    expectRejected(
      dockerManifestSchema,
      withField(dockerManifest, 'mediaType', 'application/vnd.oci.image.manifest.v1+json'),
      'mediaType',
    );
    expectRejected(dockerManifestSchema, withField(dockerManifest, 'schemaVersion', 1), 'schemaVersion');
    expectRejected(
      dockerManifestListSchema,
      withField(dockerList, 'mediaType', 'application/vnd.docker.distribution.manifest.v2+json'),
      'mediaType',
    );
  });
});

describe('image config', () => {
  it('accepts the OCI and Docker fields, including Docker’s nulls', () => {
    const full = {
      ...imageConfig,
      created: '2026-01-01T00:00:00Z',
      author: 'octo',
      variant: 'v8',
      'os.version': '10.0.17763.1040',
      'os.features': ['win32k'],
      config: {
        User: '1000',
        ExposedPorts: { '8080/tcp': {} },
        Env: null,
        Entrypoint: ['/entry'],
        Cmd: null,
        Volumes: { '/data': {} },
        WorkingDir: '/app',
        Labels: null,
        StopSignal: 'SIGTERM',
      },
      history: [
        {
          created: '2026-01-01T00:00:00Z',
          created_by: '/bin/sh -c #(nop)',
          empty_layer: true,
          comment: 'c',
          author: 'a',
        },
      ],
    };
    expect(imageConfigSchema.parse(full)).toEqual(full);
  });

  it.each(['architecture', 'os', 'rootfs', 'rootfs.type', 'rootfs.diff_ids'])('requires %s', (field) => {
    expectRejected(imageConfigSchema, without(imageConfig, field), field);
  });

  it.each([
    ['rootfs.diff_ids', ['sha256:nothex']],
    ['architecture', 64],
    ['config', { Env: 'PATH=/bin' }],
    ['config', { Labels: { a: 1 } }],
    ['config', { Cmd: '/bin/sh' }],
    ['history', [{ empty_layer: 'yes' }]],
  ])('refuses %s = %j', (field, value) => {
    const result = imageConfigSchema.safeParse(withField(imageConfig, field, value));
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path.join('.')).toContain(field.split('.')[0]);
  });

  it('exposes the parts as schemas of their own', () => {
    expect(containerConfigSchema.parse({ Env: ['A=1'] })).toEqual({ Env: ['A=1'] });
    expect(historySchema.safeParse({ created_by: 7 }).success).toBe(false);
    expect(annotationsSchema.safeParse({ a: 'b' }).success).toBe(true);
  });
});

describe('error bodies', () => {
  it('parses GHCR’s UNSUPPORTED body and a body with detail', () => {
    const ghcr = JSON.parse(
      '{"errors":[{"code":"UNSUPPORTED","message":"The operation is unsupported."}]}',
    ) as unknown;
    expect(distributionErrorBodySchema.parse(ghcr)).toEqual(ghcr);
    const withDetail = {
      errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: { Tag: 'x' } }],
    };
    expect(distributionErrorBodySchema.parse(withDetail)).toEqual(withDetail);
  });

  it('refuses a body without errors or with a non-string code', () => {
    expectRejected(distributionErrorBodySchema, {}, 'errors');
    expectRejected(distributionErrorBodySchema, { errors: [{ message: 'x' }] }, 'errors.0.code');
    expectRejected(distributionErrorBodySchema, { errors: [{ code: 401 }] }, 'errors.0.code');
  });

  it('parses GitHub’s secondary rate limit body', () => {
    const body = {
      message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
      documentation_url:
        'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits',
      status: '403',
    };
    expect(githubErrorBodySchema.parse(body)).toEqual(body);
    expectRejected(githubErrorBodySchema, { documentation_url: 'x' }, 'message');
  });
});

describe('GitHub Packages objects (ghcr-facts §3)', () => {
  const owner = { login: 'github', id: 9919, type: 'Organization', site_admin: false };
  const pkg = {
    id: 197,
    name: 'super-linter',
    package_type: 'container',
    owner,
    version_count: 3,
    visibility: 'public',
    url: 'https://api.github.com/orgs/github/packages/container/super-linter',
    created_at: '2020-06-17T16:10:20Z',
    updated_at: '2026-01-01T00:00:00Z',
    repository: { id: 216581567, name: 'super-linter', full_name: 'github/super-linter' },
    html_url: 'https://github.com/orgs/github/packages/container/package/super-linter',
  };
  const version = {
    id: 786068,
    name: 'sha256:ca8b0f1e7b5e3b3a1d3f7c6f4f0a6ab6ecf6b9b4b3f1c2f2cbb8d3c6f0e7a5d4',
    url: 'https://api.github.com/orgs/github/packages/container/super-linter/versions/786068',
    package_html_url: 'https://github.com/orgs/github/packages/container/package/super-linter',
    html_url: 'https://github.com/orgs/github/packages/container/super-linter/786068',
    license: 'MIT',
    created_at: '2021-03-02T17:38:24Z',
    updated_at: '2021-03-02T17:38:24Z',
    metadata: { package_type: 'container', container: { tags: ['latest', 'v4'] } },
  };

  it('parses a package and its owner', () => {
    expect(githubPackageSchema.parse(pkg)).toEqual(pkg);
    expect(githubPackageSchema.parse({ ...pkg, repository: null }).repository).toBeNull();
    expect(githubPackageSchema.parse(without(pkg, 'owner'))).toBeTruthy();
    expect(packageOwnerSchema.parse({ ...owner, type: 'User' }).type).toBe('User');
    expect(packageVisibilitySchema.options).toEqual(['public', 'private', 'internal']);
  });

  it.each([
    'id',
    'name',
    'package_type',
    'url',
    'html_url',
    'version_count',
    'visibility',
    'created_at',
    'updated_at',
  ])('a package requires %s', (field) => {
    expectRejected(githubPackageSchema, without(pkg, field), field);
  });

  it('a package refuses wrong types', () => {
    expectRejected(githubPackageSchema, withField(pkg, 'id', '197'), 'id');
    expectRejected(githubPackageSchema, withField(pkg, 'version_count', -1), 'version_count');
    expectRejected(githubPackageSchema, withField(pkg, 'owner', { login: 'x' }), 'owner.id');
  });

  it('parses a tagged container version shaped like GitHub’s', () => {
    const parsed = packageVersionSchema.parse(version);
    expect(parsed).toEqual(version);
    expect(parsed.metadata?.container?.tags).toEqual(['latest', 'v4']);
  });

  it('parses an untagged, deleted and a docker-metadata version', () => {
    const untagged = { ...version, metadata: { package_type: 'container', container: { tags: [] } } };
    expect(packageVersionSchema.parse(untagged).metadata?.container?.tags).toEqual([]);
    expect(packageVersionSchema.parse({ ...version, deleted_at: '2026-01-02T00:00:00Z' }).deleted_at).toBe(
      '2026-01-02T00:00:00Z',
    );
    expect(packageVersionSchema.parse({ ...version, deleted_at: null }).deleted_at).toBeNull();
    const docker = { ...version, metadata: { package_type: 'docker', docker: { tag: ['old'] } } };
    expect(packageVersionSchema.parse(docker).metadata?.docker?.tag).toEqual(['old']);
    expect(packageVersionSchema.parse(without(version, 'metadata'))).toBeTruthy();
  });

  it.each(['id', 'name', 'url', 'package_html_url', 'created_at', 'updated_at', 'metadata.package_type'])(
    'a version requires %s',
    (field) => {
      expectRejected(packageVersionSchema, without(version, field), field);
    },
  );

  it('a version refuses wrong types', () => {
    expectRejected(packageVersionSchema, withField(version, 'id', 1.5), 'id');
    expectRejected(
      packageVersionSchema,
      withField(version, 'metadata.container', { tags: 'latest' }),
      'metadata.container.tags',
    );
  });
});

describe('severity and vulnerabilities', () => {
  it('orders severities from unknown to critical', () => {
    expect(SEVERITIES).toEqual(['unknown', 'low', 'medium', 'high', 'critical']);
    expect(SEVERITIES.map(severityRank)).toEqual([0, 1, 2, 3, 4]);
    const shuffled: Severity[] = ['high', 'unknown', 'critical', 'low', 'medium'];
    expect([...shuffled].sort(compareSeverity)).toEqual(SEVERITIES);
    expect(compareSeverity('critical', 'high')).toBeGreaterThan(0);
    expect(compareSeverity('low', 'medium')).toBeLessThan(0);
    expect(compareSeverity('medium', 'medium')).toBe(0);
  });

  it.each([
    ['CRITICAL', 'critical'],
    ['Critical', 'critical'],
    ['HIGH', 'high'],
    ['important', 'high'],
    ['error', 'high'],
    ['MEDIUM', 'medium'],
    ['moderate', 'medium'],
    ['warning', 'medium'],
    ['LOW', 'low'],
    ['negligible', 'low'],
    ['minor', 'low'],
    ['note', 'low'],
    ['  high  ', 'high'],
    ['UNKNOWN', 'unknown'],
    ['none', 'unknown'],
    ['', 'unknown'],
    [undefined, 'unknown'],
  ])('normalizes %j to %s', (word, severity) => {
    expect(normalizeSeverity(word)).toBe(severity);
  });

  it('validates a vulnerability', () => {
    const finding = {
      id: 'CVE-2024-3094',
      severity: 'critical',
      package: 'xz-utils',
      installedVersion: '5.6.0-0.2',
      fixedVersion: '5.6.1+really5.4.5-1',
      title: 'xz backdoor',
      source: 'cosign-vuln',
      reportDigest: D('f'),
    };
    expect(vulnerabilitySchema.parse(finding)).toEqual(finding);
    expect(vulnerabilitySchema.parse({ id: 'GHSA-x', severity: 'low', source: 'sarif' })).toBeTruthy();
    expectRejected(vulnerabilitySchema, { ...finding, severity: 'severe' }, 'severity');
    expectRejected(vulnerabilitySchema, { ...finding, severity: 'CRITICAL' }, 'severity');
    expectRejected(vulnerabilitySchema, without(finding, 'id'), 'id');
    expectRejected(vulnerabilitySchema, without(finding, 'source'), 'source');
    expectRejected(vulnerabilitySchema, without(finding, 'severity'), 'severity');
    expect(severitySchema.safeParse('medium').success).toBe(true);
  });
});
