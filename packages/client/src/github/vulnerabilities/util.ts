/** True for a plain (non-array) object. @internal */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `{ [key]: value }` when value is a non-empty string, else `{}` (for exactOptionalPropertyTypes). @internal */
export function optional<K extends string>(key: K, value: string | null | undefined): { [P in K]?: string } {
  if (value === undefined || value === null || value.trim() === '') return {};
  return { [key]: value.trim() } as { [P in K]: string };
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Undoes the HTML escaping Trivy applies to SARIF descriptions (`&#39;`, `&lt;`, …). @internal */
export function unescapeHtml(text: string): string {
  return text.replace(/&(#\d+|#x[0-9a-fA-F]+|[a-z]+);/g, (match, entity: string) => {
    if (entity.startsWith('#x')) return String.fromCodePoint(Number.parseInt(entity.slice(2), 16));
    if (entity.startsWith('#')) return String.fromCodePoint(Number.parseInt(entity.slice(1), 10));
    return ENTITIES[entity] ?? match;
  });
}

/**
 * The package fields of a scanner's finding message, when it has a recognised form:
 * - Trivy (SARIF results and code-scanning alerts): `Package: openssl\nInstalled Version: 3.0.2\n…\nFixed Version: 3.0.7`
 * - Grype (SARIF results): `… in deb package: openssl, version 3.0.2 was found at: …`
 * @internal
 */
export function packageFromMessage(text: string | undefined): {
  package?: string;
  installedVersion?: string;
  fixedVersion?: string;
} {
  if (text === undefined) return {};
  const line = (name: string): string | undefined =>
    new RegExp(`^\\s*${name}:[ \\t]*(.*?)\\s*$`, 'im').exec(text)?.[1];
  const trivyPackage = line('Package');
  if (trivyPackage !== undefined && trivyPackage !== '') {
    return {
      package: trivyPackage,
      ...optional('installedVersion', line('Installed Version')),
      ...optional('fixedVersion', line('Fixed Version')),
    };
  }
  const grype = /\bpackage: ([^,\s]+), version ([^\s,]+)/i.exec(text);
  if (grype?.[1] !== undefined) {
    return { package: grype[1], ...optional('installedVersion', grype[2]) };
  }
  return {};
}

/**
 * The name and version of a package URL (`pkg:deb/debian/openssl@3.0.2?arch=amd64` → `openssl`,
 * `3.0.2`), or undefined when `text` is not one. Namespaces are kept for ecosystems that need them
 * (`pkg:maven/org.apache/log4j` → `org.apache:log4j`, as Trivy names it; `pkg:npm/%40scope/name` → `@scope/name`).
 * @internal
 */
export function parsePurl(text: string): { name: string; version?: string } | undefined {
  const match = /^pkg:([a-zA-Z.+-]+)\/([^?#@]+)(?:@([^?#]+))?/.exec(text);
  if (match === null) return undefined;
  const type = (match[1] ?? '').toLowerCase();
  const segments = (match[2] ?? '').split('/').map(safeDecode);
  const last = segments[segments.length - 1] ?? '';
  // OS package types carry the distribution as namespace, which is not part of the package name.
  const keepNamespace = !['deb', 'rpm', 'apk', 'alpm', 'generic', 'oci', 'docker'].includes(type);
  const joiner = type === 'maven' ? ':' : '/';
  const name = keepNamespace && segments.length > 1 ? segments.join(joiner) : last;
  if (name === '') return undefined;
  const version = match[3] === undefined ? undefined : safeDecode(match[3]);
  return version === undefined ? { name } : { name, version };
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
