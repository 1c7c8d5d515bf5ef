import { definedProps } from './defined-props.js';
import { type Digest, parseDigest } from './digest.js';
import { GhcrErrorCode, InvalidInputError } from './errors.js';
import { canonicalRepository, DOCKER_HUB_REGISTRY, isDockerHub } from './registry-names.js';

/**
 * The registry assumed when a reference names none. This toolkit is for GitHub Container
 * Registry first, so `octo/app:1` means `ghcr.io/octo/app:1` (Docker would say docker.io).
 * @public
 */
export const DEFAULT_REGISTRY = 'ghcr.io';

/**
 * A parsed image reference: `registry/repository[:tag][@digest]`.
 * @public
 */
export interface Reference {
  /** Host and optional port, e.g. `ghcr.io`, `localhost:5000`, `[::1]:5000`. */
  readonly registry: string;
  /** The repository path, e.g. `octo/app` or `octo/team/app`. */
  readonly repository: string;
  /** The tag, when given. */
  readonly tag?: string;
  /** The digest, when given. When both are given, the digest wins for pulls. */
  readonly digest?: Digest;
}

// distribution-spec v1.1 "Pulling manifests": <name> and <reference> grammars.
const PATH_COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const NAME_RE = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const PATH_COMPONENT_RE = new RegExp(`^${PATH_COMPONENT}$`);
const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
// distribution/reference (regexp.go): domain-components joined by ".", or an IPv6 address in
// brackets (hex digits and ":" only; IPv4-mapped forms and zones are deliberately excluded there),
// then an optional port.
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const HOST_RE = new RegExp(
  `^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?$`,
);

/** Maximum length of `registry/repository` that registries accept (docker/distribution). @public */
export const MAX_NAME_LENGTH = 255;

function invalid(input: string, message: string): InvalidInputError {
  return new InvalidInputError(`invalid reference "${input}": ${message}`, {
    code: GhcrErrorCode.INVALID_REFERENCE,
    input,
  });
}

/** True when a repository path matches the distribution-spec name grammar. @public */
export function isValidRepositoryName(name: string): boolean {
  return NAME_RE.test(name);
}

/** True when a tag matches the distribution-spec tag grammar. @public */
export function isValidTag(tag: string): boolean {
  return TAG_RE.test(tag);
}

/** True when the first path component names a registry: it has a `.` or `:`, is `localhost`, or is bracketed IPv6. */
function looksLikeRegistry(component: string): boolean {
  return (
    component.includes('.') ||
    component.includes(':') ||
    component === 'localhost' ||
    component.startsWith('[')
  );
}

/**
 * Parses `[registry/]name[:tag][@digest]` with the distribution-spec grammar. A first component
 * containing `.` or `:`, or `localhost`, is a registry; otherwise the registry is
 * {@link DEFAULT_REGISTRY} (`ghcr.io`). Docker Hub's names (`docker.io`, `index.docker.io`,
 * `registry-1.docker.io`, `registry.hub.docker.com`) all give `docker.io`, and a one-component
 * repository there is an official image: `docker.io/alpine:3` → `docker.io/library/alpine:3`.
 * @throws InvalidInputError (code `GHCR_INVALID_REFERENCE`) naming the bad part and what to do.
 * @public
 */
export function parseReference(input: string): Reference {
  if (input === '') throw invalid(input, 'it is empty; expected [registry/]name[:tag][@digest]');
  if (/\s/.test(input)) throw invalid(input, 'it contains white space');
  if (input.includes('://')) {
    throw invalid(
      input,
      'remove the URL scheme; write host/name:tag (plain HTTP is chosen by options, not by the reference)',
    );
  }
  let rest = input;
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const digestPart = rest.slice(at + 1);
    rest = rest.slice(0, at);
    try {
      digest = parseDigest(digestPart).digest;
    } catch (error) {
      throw new InvalidInputError(
        `invalid reference "${input}": the part after "@" is not a valid digest (${digestPart})`,
        {
          code: GhcrErrorCode.INVALID_REFERENCE,
          input,
          cause: error,
        },
      );
    }
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > lastSlash) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!TAG_RE.test(tag)) {
      throw invalid(
        input,
        `tag "${tag}" is invalid: a tag is 1 to 128 characters of letters, digits, "_", "." and "-", and does not start with "." or "-"`,
      );
    }
  }
  const slash = rest.indexOf('/');
  let registry = DEFAULT_REGISTRY;
  let repository = rest;
  if (slash >= 0 && looksLikeRegistry(rest.slice(0, slash))) {
    registry = rest.slice(0, slash);
    repository = rest.slice(slash + 1);
    if (!HOST_RE.test(registry)) throw invalid(input, `registry "${registry}" is not a valid host[:port]`);
    if (isDockerHub(registry)) {
      // One registry under four names; `docker.io/alpine` is the official `library/alpine`.
      registry = DOCKER_HUB_REGISTRY;
      repository = canonicalRepository(registry, repository);
    }
  }
  if (repository === '') throw invalid(input, 'the repository name is empty');
  if (!NAME_RE.test(repository)) {
    const bad = repository.split('/').find((component) => !PATH_COMPONENT_RE.test(component));
    throw invalid(
      input,
      `repository "${repository}" is invalid${bad === undefined ? '' : ` at "${bad}"`}: each "/"-separated component is lowercase letters and digits, separated by ".", "_", "__" or "-"`,
    );
  }
  if (registry.length + 1 + repository.length > MAX_NAME_LENGTH) {
    throw invalid(input, `registry and repository together exceed ${MAX_NAME_LENGTH} characters`);
  }
  return {
    registry,
    repository,
    ...definedProps({ tag, digest }),
  };
}

/**
 * Formats a reference as `registry/repository[:tag][@digest]`. `formatReference(parseReference(x))`
 * is `x` whenever `x` names its registry.
 * @public
 */
export function formatReference(reference: Reference): string {
  return `${reference.registry}/${reference.repository}${reference.tag === undefined ? '' : `:${reference.tag}`}${
    reference.digest === undefined ? '' : `@${reference.digest}`
  }`;
}

/**
 * What a pull should ask the registry for: the digest when present, else the tag, else `latest`.
 * @public
 */
export function referenceTarget(reference: Reference): string {
  return reference.digest ?? reference.tag ?? 'latest';
}

/**
 * For GitHub packages: the owner (first component) and the package name (the rest, which may
 * contain `/`) of a repository path. `octo/team/app` → `{ owner: 'octo', packageName: 'team/app' }`.
 * @throws InvalidInputError when the repository has a single component (GHCR needs `owner/name`).
 * @public
 */
export function splitPackagePath(repository: string): { owner: string; packageName: string } {
  const slash = repository.indexOf('/');
  if (slash <= 0 || slash === repository.length - 1) {
    throw new InvalidInputError(
      `"${repository}" has no owner: GitHub packages are named <owner>/<package>, e.g. octo/app`,
      { code: GhcrErrorCode.INVALID_REFERENCE, input: repository },
    );
  }
  return { owner: repository.slice(0, slash), packageName: repository.slice(slash + 1) };
}
