/**
 * fast-check arbitraries shared by the property tests of this package (test code only; not
 * exported from the package).
 */
import type { Descriptor, Digest, Platform } from '@ghcr/oci-types';
import fc from 'fast-check';

export const digestArbitrary: fc.Arbitrary<Digest> = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .map((raw): Digest => `sha256:${Buffer.from(raw).toString('hex')}`);

const restrictedName = fc.stringMatching(/^[a-z0-9][a-z0-9.+-]{0,20}$/);
export const mediaTypeArbitrary: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'application/vnd.oci.image.layer.v1.tar+gzip',
    'application/vnd.oci.image.layer.v1.tar+zstd',
    'application/vnd.oci.image.config.v1+json',
    'application/vnd.docker.image.rootfs.diff.tar.gzip',
    'application/json',
  ),
  fc
    .tuple(fc.constantFrom('application', 'text', 'image'), restrictedName)
    .map(([type, sub]) => `${type}/${sub}`),
);

/**
 * Annotation maps with any strings, lone surrogates and JSON-special characters included; not
 * `__proto__`, which the library refuses (tested on its own).
 */
export const annotationsArbitrary: fc.Arbitrary<Record<string, string>> = fc.dictionary(
  fc.string({ unit: 'binary', maxLength: 12 }).filter((key) => key !== '__proto__'),
  fc.string({ unit: 'binary', maxLength: 24 }),
  { maxKeys: 4, noNullPrototype: true },
);

const name = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,10}$/);
export const platformArbitrary: fc.Arbitrary<Platform> = fc.record(
  {
    os: fc.constantFrom('linux', 'windows', 'freebsd'),
    architecture: fc.constantFrom('amd64', 'arm64', 'arm', '386', 'riscv64', 's390x', 'ppc64le'),
    variant: fc.constantFrom('v5', 'v6', 'v7', 'v8', 'v2', 'v3'),
    'os.version': fc.stringMatching(/^10\.0\.\d{5}\.\d{1,4}$/),
    'os.features': fc.array(name, { maxLength: 2 }),
  },
  { requiredKeys: ['os', 'architecture'] },
);

export const descriptorArbitrary: fc.Arbitrary<Descriptor> = fc.record(
  {
    mediaType: mediaTypeArbitrary,
    digest: digestArbitrary,
    size: fc.integer({ min: 1, max: 2 ** 40 }),
    urls: fc.array(fc.webUrl(), { maxLength: 2 }),
    annotations: annotationsArbitrary,
    artifactType: mediaTypeArbitrary,
  },
  { requiredKeys: ['mediaType', 'digest', 'size'] },
);

export const platformDescriptorArbitrary: fc.Arbitrary<Descriptor> = fc
  .tuple(descriptorArbitrary, platformArbitrary)
  .map(([descriptor, platform]) => ({ ...descriptor, platform }));

/** The same value with its object keys in reverse order, at every depth. */
export function reverseKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(reverseKeys) as T;
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).reverse()) {
      // defineProperty, so a "__proto__" key stays a key.
      Object.defineProperty(out, key, {
        value: reverseKeys((value as Record<string, unknown>)[key]),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out as T;
  }
  return value;
}
