/**
 * `WWW-Authenticate` parsing per RFC 9110 §11.2 / §11.6.1 (formerly RFC 7235 §2.1, §4.1):
 *
 * ```
 * WWW-Authenticate = #challenge
 * challenge        = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
 * auth-param       = token BWS "=" BWS ( token / quoted-string )
 * token68          = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
 * ```
 *
 * The list separator and the parameter separator are both a comma, so after each comma the parser
 * looks ahead: `token BWS "="` starts another parameter, anything else starts a new challenge.
 */

import { definedProps, ProtocolError } from '@ghcr/oci-types';

/**
 * One authentication challenge of a `WWW-Authenticate` header.
 * @public
 */
export interface Challenge {
  /** The auth scheme, lower-cased (`bearer`, `basic`, …); schemes are case-insensitive. */
  readonly scheme: string;
  /**
   * The auth-params, names lower-cased (they are case-insensitive), values unquoted and
   * unescaped. A null-prototype object, so a parameter named `__proto__` is just a key.
   */
  readonly params: Readonly<Record<string, string>>;
  /** The token68 form of the credentials (`Negotiate abc==`), when the challenge used it. */
  readonly token68?: string;
}

/**
 * A Bearer challenge of the Docker token protocol, as a registry sends it on 401:
 * `Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:o/n:pull"`.
 * @public
 */
export interface BearerChallenge {
  /** The token endpoint URL, exactly as the challenge names it (not yet validated). */
  readonly realm: string;
  /** The `service` parameter, if any: passed back to the token endpoint. */
  readonly service?: string;
  /** The scopes named by the `scope` parameter (space-separated in the header), as strings. */
  readonly scopes: readonly string[];
  /** The `error` parameter (RFC 6750 §3), e.g. `insufficient_scope` or `invalid_token`. */
  readonly error?: string;
  /** Every parameter of the challenge, names lower-cased. */
  readonly params: Readonly<Record<string, string>>;
}

/**
 * Header containers accepted by {@link challengesOf} and {@link bearerChallengeOf}: a Fetch
 * `Headers`, undici's `IncomingHttpHeaders` (`Record<string, string | string[] | undefined>`), or
 * already-parsed challenges.
 * @public
 */
export type HeadersLike =
  | { get(name: string): string | null }
  | Readonly<Record<string, string | readonly string[] | undefined>>;

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN68 = /[A-Za-z0-9\-._~+/]+=*/y;
const MAX_EXCERPT = 200;

class ChallengeParser {
  private position = 0;

  constructor(private readonly text: string) {}

  parse(): Challenge[] {
    const challenges: Challenge[] = [];
    for (;;) {
      this.skipSeparators();
      if (this.atEnd()) return challenges;
      challenges.push(this.parseChallenge());
    }
  }

  private parseChallenge(): Challenge {
    const scheme = this.readToken();
    if (scheme === '') this.fail('expected an auth scheme');
    const params: Record<string, string> = Object.create(null);
    const spaces = this.skipWhitespace();
    if (this.atEnd() || this.peek() === ',') return { scheme: scheme.toLowerCase(), params };
    if (spaces === 0) this.fail(`expected a space after the auth scheme "${scheme}"`);
    const token68 = this.tryToken68();
    if (token68 !== undefined) return { scheme: scheme.toLowerCase(), params, token68 };
    this.parseParams(params);
    return { scheme: scheme.toLowerCase(), params };
  }

  /** A token68 counts only when nothing but a comma or the end follows it. */
  private tryToken68(): string | undefined {
    TOKEN68.lastIndex = this.position;
    const match = TOKEN68.exec(this.text);
    if (match === null) return undefined;
    const end = this.position + match[0].length;
    let after = end;
    while (after < this.text.length && isWhitespace(this.text.charAt(after))) after++;
    if (after < this.text.length && this.text.charAt(after) !== ',') return undefined;
    this.position = after;
    return match[0];
  }

  private parseParams(params: Record<string, string>): void {
    for (;;) {
      const nameStart = this.position;
      const name = this.readToken();
      if (name === '') this.fail('expected a parameter name');
      this.skipWhitespace();
      if (this.peek() !== '=') this.fail(`expected "=" after the parameter name "${name}"`);
      this.position++;
      this.skipWhitespace();
      const value = this.peek() === '"' ? this.readQuotedString() : this.readUnquotedValue(name);
      const key = name.toLowerCase();
      if (Object.hasOwn(params, key)) {
        this.position = nameStart;
        this.fail(`the parameter "${key}" appears twice in one challenge`);
      }
      params[key] = value;
      this.skipWhitespace();
      if (this.atEnd()) return;
      if (this.peek() === ',') {
        this.skipSeparators();
        if (this.atEnd() || !this.atParamStart()) return;
        continue;
      }
      // Lenient: some servers forget the comma between parameters (`realm="a" service="b"`).
      if (this.atParamStart()) continue;
      this.fail('expected "," between parameters');
    }
  }

  /** True when the text at the cursor is `token BWS "="`, i.e. another auth-param. */
  private atParamStart(): boolean {
    let index = this.position;
    while (index < this.text.length && TCHAR.test(this.text.charAt(index))) index++;
    if (index === this.position) return false;
    while (index < this.text.length && isWhitespace(this.text.charAt(index))) index++;
    return this.text.charAt(index) === '=';
  }

  private readQuotedString(): string {
    const start = this.position;
    this.position++; // opening quote
    let value = '';
    while (!this.atEnd()) {
      const char = this.text.charAt(this.position++);
      if (char === '"') return value;
      if (char === '\\') {
        if (this.atEnd()) break;
        value += this.text.charAt(this.position++);
      } else {
        value += char;
      }
    }
    this.position = start;
    return this.fail('unterminated quoted string');
  }

  /**
   * A bare value. RFC 9110 allows only `token` characters here; real servers also send bare URLs
   * (`realm=https://host/token`), so anything up to a comma, whitespace or quote is accepted.
   */
  private readUnquotedValue(name: string): string {
    const start = this.position;
    while (!this.atEnd()) {
      const char = this.text.charAt(this.position);
      if (char === ',' || char === '"' || isWhitespace(char)) break;
      this.position++;
    }
    if (this.position === start) this.fail(`the parameter "${name}" has no value`);
    return this.text.slice(start, this.position);
  }

  private readToken(): string {
    const start = this.position;
    while (!this.atEnd() && TCHAR.test(this.text.charAt(this.position))) this.position++;
    return this.text.slice(start, this.position);
  }

  private skipWhitespace(): number {
    const start = this.position;
    while (!this.atEnd() && isWhitespace(this.text.charAt(this.position))) this.position++;
    return this.position - start;
  }

  private skipSeparators(): void {
    while (!this.atEnd()) {
      const char = this.text.charAt(this.position);
      if (char !== ',' && !isWhitespace(char)) return;
      this.position++;
    }
  }

  private peek(): string {
    return this.text.charAt(this.position);
  }

  private atEnd(): boolean {
    return this.position >= this.text.length;
  }

  private fail(reason: string): never {
    const excerpt = this.text.length > MAX_EXCERPT ? `${this.text.slice(0, MAX_EXCERPT)}…` : this.text;
    throw new ProtocolError(
      `malformed WWW-Authenticate header at character ${this.position + 1}: ${reason} (header: ${JSON.stringify(excerpt)}); the registry or proxy sent a header that RFC 9110 §11.6.1 does not allow`,
    );
  }
}

function isWhitespace(char: string): boolean {
  return char === ' ' || char === '\t';
}

/**
 * Parses a `WWW-Authenticate` header value (or several header lines) into its challenges, in
 * order. Handles several challenges in one value, quoted strings with commas and backslash
 * escapes, token68, and case-insensitive schemes and parameter names. Challenges of every scheme
 * are returned, unknown ones included with their parameters; {@link bearerChallengeOf} and the
 * token manager pick the ones they understand (Bearer, Basic) and ignore the rest.
 *
 * Leniencies for real servers: bare (unquoted) parameter values may contain any character but
 * comma, quote and whitespace (bare URLs), and a missing comma between two parameters is accepted.
 *
 * @throws ProtocolError when the value cannot be parsed (unterminated quote, missing `=`,
 * duplicate parameter in one challenge).
 * @example parseWwwAuthenticate('Bearer realm="https://ghcr.io/token",service="ghcr.io"')
 * @public
 */
export function parseWwwAuthenticate(header: string | readonly string[]): Challenge[] {
  const lines = typeof header === 'string' ? [header] : header;
  return lines.flatMap((line) => new ChallengeParser(line).parse());
}

function headerValues(headers: HeadersLike): string[] {
  if (typeof (headers as { get?: unknown }).get === 'function') {
    const value = (headers as { get(name: string): string | null }).get('www-authenticate');
    return value === null ? [] : [value];
  }
  const values: string[] = [];
  for (const [name, value] of Object.entries(headers as Record<string, unknown>)) {
    if (name.toLowerCase() !== 'www-authenticate') continue;
    if (typeof value === 'string') values.push(value);
    else if (Array.isArray(value)) values.push(...value.filter((v): v is string => typeof v === 'string'));
  }
  return values;
}

/**
 * Reads and parses every `WWW-Authenticate` header of a response.
 * @public
 */
export function challengesOf(headers: HeadersLike): Challenge[] {
  return parseWwwAuthenticate(headerValues(headers));
}

/**
 * The first Bearer challenge of a response's headers (or of parsed challenges), or `undefined`
 * when there is none.
 * @throws ProtocolError when a Bearer challenge has no `realm`: the token endpoint is unknown.
 * @public
 */
export function bearerChallengeOf(source: HeadersLike | readonly Challenge[]): BearerChallenge | undefined {
  const challenges = Array.isArray(source)
    ? (source as readonly Challenge[])
    : challengesOf(source as HeadersLike);
  const challenge = challenges.find((candidate) => candidate.scheme === 'bearer');
  if (challenge === undefined) return undefined;
  return toBearerChallenge(challenge);
}

/**
 * Reads a parsed Bearer challenge's parameters.
 * @throws ProtocolError when it has no `realm`.
 * @internal
 */
export function toBearerChallenge(challenge: Challenge): BearerChallenge {
  const { realm, service, scope, error } = challenge.params;
  if (realm === undefined || realm === '') {
    throw new ProtocolError(
      'the registry sent a Bearer challenge without a "realm" parameter, so the token endpoint is unknown; the registry is misconfigured',
    );
  }
  return {
    realm,
    ...definedProps({ service }),
    scopes: scope === undefined ? [] : scope.split(/\s+/).filter((part) => part !== ''),
    ...definedProps({ error }),
    params: challenge.params,
  };
}
