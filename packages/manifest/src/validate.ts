/**
 * Validation shared by parsing and building: zod issues turned into an {@link InvalidManifestError}
 * that names the field and the problem, and the descriptor rules zod's schemas do not express.
 * @internal
 */

import {
  type Descriptor,
  type DigestAlgorithm,
  digestOf,
  InvalidManifestError,
  isDigest,
  parseDigest,
} from '@ghcr/oci-types';
import type * as z from 'zod';

/** A path into a JSON document, as zod reports it. */
type Path = readonly PropertyKey[];

/**
 * Formats a path as `layers.1.digest`; keys that are not plain identifiers (annotation keys such
 * as `org.opencontainers.image.created`) are bracketed and quoted so the path stays unambiguous.
 * @internal
 */
export function formatPath(path: Path): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += out === '' ? `${segment}` : `.${segment}`;
    else {
      const key = String(segment);
      if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key)) out += out === '' ? key : `.${key}`;
      else out += `[${JSON.stringify(key)}]`;
    }
  }
  return out;
}

/** A short, safe rendering of a JSON value for an error message. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') {
    const shown = value.length > 72 ? `${value.slice(0, 69)}...` : value;
    return JSON.stringify(shown);
  }
  return String(value);
}

function valueAt(document: unknown, path: Path): { present: boolean; value: unknown } {
  let current: unknown = document;
  for (const segment of path) {
    if (typeof current !== 'object' || current === null) return { present: false, value: undefined };
    const key = typeof segment === 'symbol' ? segment : String(segment);
    if (!Object.hasOwn(current, key)) return { present: false, value: undefined };
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return { present: true, value: current };
}

const ARTICLE: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'a boolean',
  array: 'an array',
  object: 'an object',
  record: 'an object',
};

/** The problem one zod issue describes, worded for a person ("must be …, got …"). */
function problemOf(issue: z.core.$ZodIssue, present: boolean, value: unknown): string {
  const got = `got ${describeValue(value)}`;
  switch (issue.code) {
    case 'invalid_type': {
      const expected = ARTICLE[issue.expected] ?? issue.expected;
      if (!present) return `is required (${expected})`;
      return `must be ${expected}, ${got}`;
    }
    case 'invalid_value': {
      const allowed = issue.values.map((allowedValue) => JSON.stringify(allowedValue)).join(' or ');
      if (!present) return `is required (${allowed})`;
      return `must be ${allowed}, ${got}`;
    }
    case 'too_small':
      if (issue.origin === 'string') return `must not be empty`;
      if (issue.origin === 'array') return `must have at least ${issue.minimum} entries`;
      return `must be ${issue.inclusive ? 'at least' : 'greater than'} ${issue.minimum}, ${got}`;
    case 'too_big':
      return `must be at most ${issue.maximum}, ${got}`;
    case 'custom':
      return `${issue.message}, ${got}`;
    default:
      return `${issue.message}, ${got}`;
  }
}

/**
 * Turns the first zod issue into an {@link InvalidManifestError}: the message says what document
 * was invalid, which field and what was wrong with it, and how many more problems there were; the
 * zod error is the `cause`.
 * @internal
 */
export function invalidFromZod(
  error: z.ZodError,
  document: unknown,
  what: string,
  prefix: Path = [],
): InvalidManifestError {
  const issue = error.issues[0];
  if (issue === undefined) return new InvalidManifestError(`invalid ${what}`, { cause: error });
  const path = [...prefix, ...issue.path];
  const { present, value } = valueAt(document, issue.path);
  const field = formatPath(path);
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problem(s))` : '';
  const problem = problemOf(issue, present, value);
  const subject = field === '' ? 'the document' : field;
  return new InvalidManifestError(`invalid ${what}: ${subject} ${problem}${more}`, {
    cause: error,
    ...(field === '' ? {} : { field }),
  });
}

/** The path of the first own `__proto__` key in a JSON value, if any. */
function findProtoKey(value: unknown, path: PropertyKey[]): PropertyKey[] | undefined {
  if (Array.isArray(value)) {
    for (const [position, item] of value.entries()) {
      const found = findProtoKey(item, [...path, position]);
      if (found !== undefined) return found;
    }
  } else if (typeof value === 'object' && value !== null) {
    for (const key of Object.keys(value)) {
      if (key === '__proto__') return [...path, key];
      const found = findProtoKey((value as Record<string, unknown>)[key], [...path, key]);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/**
 * Refuses a document (or build input) with an own `__proto__` key anywhere. zod, like any code
 * that copies with `object[key] = value`, drops such a key, so the validated manifest would
 * silently differ from its bytes; no real manifest has one.
 * @throws InvalidManifestError naming the field.
 * @internal
 */
export function rejectProtoKeys(value: unknown, what: string, prefix: readonly PropertyKey[] = []): void {
  const found = findProtoKey(value, [...prefix]);
  if (found === undefined) return;
  const field = formatPath(found);
  throw new InvalidManifestError(
    `invalid ${what}: ${field} is a "__proto__" key, which this library refuses: JavaScript objects cannot hold it as data, so the manifest would silently differ from its bytes`,
    { field },
  );
}

/** RFC 6838 `type/subtype` (restricted-name on both sides), as the image spec requires. */
const MEDIA_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

/** True when `value` is an RFC 6838 media type (`type/subtype`, no parameters). @internal */
export function isMediaType(value: string): boolean {
  return MEDIA_TYPE.test(value);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The descriptor rules zod's schema leaves out (image-spec "descriptor.md"): `mediaType` is an
 * RFC 6838 media type, and embedded `data` is base64 whose decoded bytes have the descriptor's size
 * and digest.
 * @internal
 */
export function checkDescriptorRules(descriptor: Descriptor, field: string, what: string): void {
  if (!isMediaType(descriptor.mediaType)) {
    throw new InvalidManifestError(
      `invalid ${what}: ${field}.mediaType must be a media type such as "application/vnd.oci.image.layer.v1.tar+gzip" (RFC 6838 type/subtype), got ${describeValue(descriptor.mediaType)}`,
      { field: `${field}.mediaType` },
    );
  }
  if (descriptor.artifactType !== undefined && !isMediaType(descriptor.artifactType)) {
    throw new InvalidManifestError(
      `invalid ${what}: ${field}.artifactType must be a media type (RFC 6838 type/subtype), got ${describeValue(descriptor.artifactType)}`,
      { field: `${field}.artifactType` },
    );
  }
  if (descriptor.data !== undefined) {
    if (!BASE64.test(descriptor.data)) {
      throw new InvalidManifestError(
        `invalid ${what}: ${field}.data must be base64 (RFC 4648, with padding), got ${describeValue(descriptor.data)}`,
        { field: `${field}.data` },
      );
    }
    const data = Buffer.from(descriptor.data, 'base64');
    if (data.byteLength !== descriptor.size) {
      throw new InvalidManifestError(
        `invalid ${what}: ${field}.data decodes to ${data.byteLength} bytes but ${field}.size says ${descriptor.size}`,
        { field: `${field}.data` },
      );
    }
    const { algorithm } = parseDigest(descriptor.digest);
    if (algorithm === 'sha256' || algorithm === 'sha512') {
      const actual = digestOf(data, algorithm as DigestAlgorithm);
      if (actual !== descriptor.digest) {
        throw new InvalidManifestError(
          `invalid ${what}: ${field}.data has digest ${actual} but ${field}.digest says ${descriptor.digest}`,
          { field: `${field}.data` },
        );
      }
    }
  }
}

/** sha256 of zero bytes: the one blob that really has size 0. */
export const EMPTY_BLOB_DIGEST = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/**
 * The checks a descriptor must pass before it goes into a manifest this package builds: the
 * schema, {@link checkDescriptorRules}, and a real size (a size of 0 is allowed only for the empty
 * blob, and never for an index entry: a manifest is never empty, and GHCR refuses an index whose
 * entries say size 0).
 * @internal
 */
export function checkDescriptorForBuild(
  descriptor: unknown,
  field: string,
  what: string,
  schema: z.ZodType<Descriptor>,
  options: { readonly allowEmptyBlob: boolean },
): Descriptor {
  if (typeof descriptor !== 'object' || descriptor === null || Array.isArray(descriptor)) {
    throw new InvalidManifestError(
      `invalid ${what}: ${field} must be a descriptor object ({ mediaType, digest, size }), got ${describeValue(descriptor)}`,
      { field },
    );
  }
  const result = schema.safeParse(descriptor, { reportInput: true });
  if (!result.success) throw invalidFromZod(result.error, descriptor, what, field.split('.').map(toSegment));
  const parsed = result.data;
  if (!isDigest(parsed.digest)) {
    throw new InvalidManifestError(`invalid ${what}: ${field}.digest is not a valid digest`, {
      field: `${field}.digest`,
    });
  }
  if (parsed.size === 0 && !(options.allowEmptyBlob && parsed.digest === EMPTY_BLOB_DIGEST)) {
    throw new InvalidManifestError(
      `invalid ${what}: ${field}.size is 0; give the real size in bytes of ${parsed.digest} (a size of 0 is only right for the empty blob, and registries such as GHCR refuse it)`,
      { field: `${field}.size` },
    );
  }
  checkDescriptorRules(parsed, field, what);
  return parsed;
}

function toSegment(part: string): string | number {
  return /^\d+$/.test(part) ? Number(part) : part;
}
