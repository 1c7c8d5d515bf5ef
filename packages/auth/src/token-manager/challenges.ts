/**
 * Reading a 401's challenges: which realm to ask for a token, and with which scopes
 * (distribution `docs/spec/auth/token.md`).
 */

import { definedProps } from '@ghcr/oci-types';
import { type Challenge, toBearerChallenge } from '../parse-www-authenticate.js';
import { validateRealm } from '../realm.js';
import { mergeScopes, parseScope, type Scope } from '../scope.js';

/**
 * A token endpoint a registry named in a Bearer challenge.
 * @internal
 */
export interface KnownRealm {
  readonly realm: URL;
  readonly service?: string;
}

/**
 * One challenge or several, as a list (none when omitted).
 * @internal
 */
export function normalizeChallenges(
  challenge: Challenge | readonly Challenge[] | undefined,
): readonly Challenge[] {
  if (challenge === undefined) return [];
  return Array.isArray(challenge) ? (challenge as readonly Challenge[]) : [challenge as Challenge];
}

/**
 * The scopes a challenge names, skipping any that are not `type:name:actions`: a server's odd
 * scope must not stop the request's own scopes from being asked for.
 */
function challengeScopes(scopes: readonly string[]): Scope[] {
  const parsed: Scope[] = [];
  for (const scope of scopes) {
    try {
      parsed.push(parseScope(scope));
    } catch {
      // Ignored, see above.
    }
  }
  return parsed;
}

/**
 * What a Bearer challenge asks for: the realm to fetch from (validated for `registry`) and the
 * requested scopes merged with the challenge's own.
 * @throws ProtocolError when the challenge has no realm; AuthenticationError when the realm is refused.
 * @internal
 */
export function negotiateBearer(
  bearer: Challenge,
  registry: string,
  requested: readonly Scope[],
  allowInsecureRealm: (host: string) => boolean,
): { readonly known: KnownRealm; readonly scopes: readonly Scope[] } {
  const parsed = toBearerChallenge(bearer);
  // Only the registry's own challenge may name a realm, and a realm is used only for the
  // registry that named it: credentials never go to a host no challenge named.
  const realm = validateRealm(parsed.realm, registry, allowInsecureRealm);
  const known: KnownRealm = {
    realm,
    ...definedProps({ service: parsed.service }),
  };
  return { known, scopes: mergeScopes([...requested, ...challengeScopes(parsed.scopes)]) };
}
