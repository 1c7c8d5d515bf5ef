import { InvalidInputError } from '@ghcr/oci-types';

/**
 * A compiled tag pattern: the text it was written as and a test.
 * @internal
 */
export interface TagPattern {
  /** As written in the policy (`v*`, `/^pr-\d+$/`). */
  readonly source: string;
  readonly test: (tag: string) => boolean;
}

const REGEX_LITERAL = /^\/(.+)\/([dgimsuvy]*)$/s;

/**
 * Compiles one tag pattern. A pattern written `/…/flags` is a regular expression, searched
 * anywhere in the tag unless anchored (`/^v\d+$/`); anything else is a glob matched against the
 * whole tag: `*` is any run of characters (none included), `?` exactly one, everything else
 * literal. Tags cannot contain `/`, so the two forms never collide.
 * @throws InvalidInputError when a `/…/` pattern is not a valid regular expression.
 * @internal
 */
export function compileTagPattern(source: string): TagPattern {
  const literal = REGEX_LITERAL.exec(source);
  if (literal !== null) {
    let expression: RegExp;
    try {
      // `g` and `y` make test() stateful; they mean nothing for a tag match.
      expression = new RegExp(literal[1] ?? '', (literal[2] ?? '').replace(/[gy]/g, ''));
    } catch (error) {
      throw new InvalidInputError(
        `invalid tag pattern ${source}: not a valid regular expression (${error instanceof Error ? error.message : String(error)}); write /regex/flags, or a glob such as v1.*`,
        { input: source, cause: error },
      );
    }
    return { source, test: (tag) => expression.test(tag) };
  }
  let body = '';
  for (const char of source) {
    if (char === '*') body += '.*';
    else if (char === '?') body += '.';
    else body += char.replace(/[.+^${}()|[\]\\/-]/g, '\\$&');
  }
  const expression = new RegExp(`^${body}$`, 's');
  return { source, test: (tag) => expression.test(tag) };
}

/** `RegExp` → `/source/flags` (the string form policies keep). @internal */
export function regexToPattern(expression: RegExp): string {
  return `/${expression.source}/${expression.flags.replace(/[gy]/g, '')}`;
}

/** The first pattern that matches `tag`, if any. @internal */
export function firstMatch(patterns: readonly TagPattern[], tag: string): TagPattern | undefined {
  for (const pattern of patterns) if (pattern.test(tag)) return pattern;
  return undefined;
}
